#!/bin/sh
# Install the Debian packages tonetree builds, runs and tests with, if any are missing.
# (PulseAudio is for the kiosk tests: a null sink is a real-time audio device on a machine
# with no sound card. Chromium, Node and a font are for `make review-page`, which opens the
# HTML script in a real browser and checks it with axe-core; a font, because a browser with
# none draws every letter as a box in the screenshot.)
# Called by the Makefile before every build so that `make run` and `make test` work on a
# fresh Debian 12 machine. Checking with dpkg first keeps a second run silent and fast.
# (libre and spandsp are the SIP service's stack and codecs; baresip, kamailio and sip-tester
# are the real SIP software its tests call it with and balance it behind. minimodem is the TTY
# that the TTY modem's tests talk with; asterisk-core-sounds-en-wav and asterisk-moh-opsound-wav,
# 45 minutes of recorded prompts and music on hold, are what its detector must never take for
# a TTY; liblinphone is the real-time-text caller's, tests/rtt_caller.c.)
set -eu

pkgs="build-essential pkg-config clang libclang-rt-14-dev
libsndfile1-dev libsoxr-dev libiniparser-dev portaudio19-dev libasound2-dev
libevdev-dev librubberband-dev libebur128-dev
pulseaudio pulseaudio-utils libasound2-plugins
flite1-dev libespeak-ng-dev espeak-ng-data libcmocka-dev
chromium fonts-dejavu-core groff-base
libre-dev libspandsp-dev baresip kamailio sip-tester liblinphone-dev
minimodem asterisk-core-sounds-en-wav asterisk-moh-opsound-wav"

# Node and npm only when there are none: a newer Node installed another way (its own package
# carries npm) would conflict with Debian's npm, and Debian 12's Node 18 is enough for the
# review-page check.
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "tonetree: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
