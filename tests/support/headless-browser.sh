#!/bin/sh
# The "system browser" for end-to-end tests: xdg-open runs this (through $BROWSER) with the
# sign-in address. It follows the identity provider's redirects with curl, keeping cookies,
# until the loopback redirect hands the code back to the app. The development identity
# provider signs the synthetic user named by the login hint in without a page.
jar=$(mktemp)
curl -sS -L --max-time 30 -c "$jar" -b "$jar" -o /dev/null "$1"
status=$?
rm -f "$jar"
exit $status
