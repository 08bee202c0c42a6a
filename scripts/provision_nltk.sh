#!/usr/bin/env bash
# Provision the NLTK data that the METEOR metric needs, without NLTK's downloader (it cannot reach its
# servers on these machines):
#   corpora/wordnet       WordNet 3.0 from Debian's wordnet-base + wordnet-sense-index (files copied, not
#                         symlinked), plus `lexnames`, which Debian lacks, generated from lexnames(5WN).
#   tokenizers/punkt_tab  punkt_tab/english from the llama-index-core wheel (it ships NLTK's punkt_tab).
# Target: $NLTK_DATA if set, else .venv/nltk_data, which NLTK searches by default (sys.prefix/nltk_data)
# for the venv's interpreter. Idempotent: exits at once when both are already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${NLTK_DATA:-$PWD/.venv/nltk_data}"
WORDNET="$DEST/corpora/wordnet"
PUNKT="$DEST/tokenizers/punkt_tab/english"
LLAMA_INDEX_CORE="llama-index-core==0.14.25"
WORDNET_FILES="adj.exc adv.exc cntlist.rev data.adj data.adv data.noun data.verb index.adj index.adv
index.noun index.verb noun.exc verb.exc index.sense lexnames"

wordnet_ok() {
    local f
    for f in $WORDNET_FILES; do [ -s "$WORDNET/$f" ] || return 1; done
}
punkt_ok() { [ -s "$PUNKT/ortho_context.tab" ] && [ -s "$PUNKT/sent_starters.txt" ]; }

if wordnet_ok && punkt_ok; then
    echo "NLTK data already provisioned in $DEST"
    exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if ! wordnet_ok; then
    echo "Provisioning WordNet 3.0 into $WORDNET"
    (
        cd "$WORK"
        # `apt-get download` fetches the .deb files without installing them; it needs the package lists.
        apt-get download wordnet-base wordnet-sense-index >/dev/null 2>&1 || {
            apt-get update >/dev/null
            apt-get download wordnet-base wordnet-sense-index >/dev/null 2>&1
        }
        for deb in wordnet-base_*.deb wordnet-sense-index_*.deb; do dpkg-deb -x "$deb" root; done
    )
    mkdir -p "$WORDNET"
    cp -L "$WORK"/root/usr/share/wordnet/* "$WORDNET/"
    cp -L "$WORK/root/usr/share/doc/wordnet-base/copyright" "$WORDNET/LICENSE"
    # lexnames: the 45 "NN<TAB>name<TAB>description" rows of the man page's table; the third field of the
    # real file is the syntactic category, which the name's prefix encodes (noun 1, verb 2, adj 3, adv 4).
    zcat "$WORK/root/usr/share/man/man5/lexnames.5WN.gz" | awk -F'\t' '
        /^\.TS/ { table = 1; next }
        /^\.TE/ { table = 0 }
        table && $1 ~ /^[0-9][0-9]$/ {
            name = $2; gsub(/[ \t]+/, "", name); split(name, part, ".")
            cat = (part[1] == "noun") ? 1 : (part[1] == "verb") ? 2 : (part[1] == "adj") ? 3 : 4
            printf "%s\t%s\t%d\n", $1, name, cat
        }' > "$WORK/lexnames"
    rows="$(wc -l < "$WORK/lexnames")"
    if [ "$rows" != 45 ]; then
        echo "error: expected 45 rows in lexnames from lexnames(5WN), got $rows" >&2
        exit 1
    fi
    cp "$WORK/lexnames" "$WORDNET/lexnames"
fi

if ! punkt_ok; then
    echo "Provisioning punkt_tab/english into $DEST/tokenizers/punkt_tab"
    python="${PYTHON:-.venv/bin/python}"
    if ! "$python" -m pip download -q --no-deps "$LLAMA_INDEX_CORE" -d "$WORK/wheel" >"$WORK/pip.log" 2>&1; then
        cat "$WORK/pip.log" >&2
        echo "error: could not download $LLAMA_INDEX_CORE (it ships punkt_tab)" >&2
        exit 1
    fi
    wheel="$(ls "$WORK"/wheel/llama_index_core-*.whl)"
    "$python" - "$wheel" "$DEST/tokenizers/punkt_tab" <<'EOF'
import sys, zipfile
from pathlib import Path

wheel, dest = sys.argv[1], Path(sys.argv[2])
prefix = "llama_index/core/_static/nltk_cache/tokenizers/punkt_tab/english/"
with zipfile.ZipFile(wheel) as zf:
    names = [n for n in zf.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names:
        sys.exit(f"error: {wheel} has no {prefix}")
    for name in names:
        target = dest / "english" / name[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(zf.read(name))
EOF
fi

wordnet_ok && punkt_ok
echo "NLTK data provisioned in $DEST"
