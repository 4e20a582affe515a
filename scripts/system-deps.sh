#!/usr/bin/env bash
# Installs the Debian packages tests rely on, when missing: the PostgreSQL server (store contract tests),
# and the independent SMTP peers of the SMTP engine's tests: swaks (with Net::SSLeay for STARTTLS),
# Postfix for smtp-sink/smtp-source (installed with "No configuration": no daemon is set up), Python 3,
# rspamd + Redis (the engine starts its own from a generated config; the packaged services are
# not needed and are stopped when the package starts them), and clamd (clamav-daemon: the virus
# test starts its own with a signature database it builds; the packaged daemon and freshclam, which
# would download signatures, are stopped likewise), and Debian's chromium, which the web console's browser
# test drives through playwright-core (no browser download: the test points it at /usr/bin/chromium).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/postgres.sh" install

missing=()
command -v swaks >/dev/null 2>&1 || missing+=(swaks)
perl -MNet::SSLeay -e1 >/dev/null 2>&1 || missing+=(libnet-ssleay-perl)
command -v smtp-sink >/dev/null 2>&1 || missing+=(postfix)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v rspamd >/dev/null 2>&1 || missing+=(rspamd)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/sbin/clamd ] || missing+=(clamav-daemon)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "▸ installing test peers (Debian packages: ${missing[*]})" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks how to configure itself; "No configuration" installs the tools without a running MTA.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages' own services (when a service manager started them) are not what the tests use.
  for service in rspamd redis-server clamav-daemon; do
    if [[ " ${missing[*]} " == *" $service "* ]] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
      [ "$service" = clamav-daemon ] && systemctl disable --now clamav-freshclam >/dev/null 2>&1 || true
    fi
  done
fi
