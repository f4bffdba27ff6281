#!/bin/sh
# gst-hart — the translation catalogue follows the code (TAP)
# Copyright (C) 2026 gst-hart developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   test-po-catalogue.sh SOURCE-ROOT
#
# The messages the elements translate (_() in the files of po/POTFILES)
# are extracted as meson's gettext target does, and compared with the
# committed template, po/gst-hart-1.0.pot, both ways; every language of
# po/LINGUAS translates every message of the template (not fuzzy).  A new
# or changed message fails here until `ninja -C build gst-hart-1.0-pot`
# and the translations follow.
set -u
root=$1
cd "$root" || exit 1
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

for tool in xgettext msgcmp; do
  if ! command -v $tool > /dev/null; then
    echo "1..0 # SKIP no $tool (Debian's gettext)"
    exit 0
  fi
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# meson's i18n preset 'glib' keywords, the ones the code uses
if xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
    --keyword=NC_:1c,2 --files-from=po/POTFILES --output="$tmp/code.pot" \
    > "$tmp/xgettext.log" 2>&1; then
  ok "xgettext reads the files of po/POTFILES"
else
  sed 's/^/# /' "$tmp/xgettext.log"
  not_ok "xgettext reads the files of po/POTFILES"
fi
if msgcmp --use-untranslated po/gst-hart-1.0.pot "$tmp/code.pot" \
    > "$tmp/new.log" 2>&1; then
  ok "the template has every message of the code"
else
  sed 's/^/# /' "$tmp/new.log"
  not_ok "the template has every message of the code (ninja -C build gst-hart-1.0-pot)"
fi
if msgcmp --use-untranslated "$tmp/code.pot" po/gst-hart-1.0.pot \
    > "$tmp/old.log" 2>&1; then
  ok "the template has no message the code no longer has"
else
  sed 's/^/# /' "$tmp/old.log"
  not_ok "the template has no message the code no longer has (ninja -C build gst-hart-1.0-pot)"
fi
for lang in $(sed 's/#.*//' po/LINGUAS); do
  if msgcmp "po/$lang.po" po/gst-hart-1.0.pot > "$tmp/$lang.log" 2>&1; then
    ok "$lang.po translates every message of the template"
  else
    sed 's/^/# /' "$tmp/$lang.log"
    not_ok "$lang.po translates every message of the template (msgmerge --update po/$lang.po po/gst-hart-1.0.pot, then translate)"
  fi
done
echo "1..$n"
exit $failed
