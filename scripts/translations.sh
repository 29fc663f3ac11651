#!/usr/bin/env bash
# The UI's translations (Flask-Babel catalogs under hub/web/translations, domain "hub").
#   scripts/translations.sh update   extract every string (babel.cfg), merge it into each .po,
#                                    then list the msgids still missing/untranslated/fuzzy
#   scripts/translations.sh compile  compile each .po to the .mo the app reads (committed)
#   scripts/translations.sh check    fail naming any string the code shows untranslated
#   scripts/translations.sh init LL  start a catalog for a new language (e.g. ja)
# After `update`, translate the listed msgids in hub/web/translations/<lang>/LC_MESSAGES/hub.po
# (keep %(name)s placeholders), then `compile` and `check`, and commit the .po and the .mo.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
DIR=hub/web/translations
POT=$(mktemp /tmp/hub-pot.XXXXXX)
trap 'rm -f "$POT"' EXIT

extract() {
  "$PY" -m babel.messages.frontend -q extract -F babel.cfg -o "$POT" --no-location --sort-output \
    -k _ -k N_ -k lazy_ -k gettext_ -k ngettext_:1,2 -k ngettext:1,2 \
    --project Tributary . >/dev/null
}

case "${1:-}" in
  update)
    extract
    for po in "$DIR"/*/LC_MESSAGES/hub.po; do
      lang=$(basename "$(dirname "$(dirname "$po")")")
      "$PY" -m babel.messages.frontend -q update -i "$POT" -d "$DIR" -D hub -l "$lang" \
        --no-fuzzy-matching --ignore-obsolete >/dev/null
    done
    "$PY" scripts/check_translations.py --list || true
    ;;
  compile)
    "$PY" -m babel.messages.frontend compile -d "$DIR" -D hub --statistics
    ;;
  check)
    exec "$PY" scripts/check_translations.py
    ;;
  init)
    extract
    "$PY" -m babel.messages.frontend init -i "$POT" -d "$DIR" -D hub -l "${2:?language code}"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
