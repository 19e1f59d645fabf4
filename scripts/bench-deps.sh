#!/bin/sh
# Install the Debian packages that only the benchmarks need, if any are missing:
#   libspandsp-dev      spandsp's dtmf_rx, the reference DTMF detector (bench_dtmf dlopens
#                       libspandsp.so.2, so the build needs no -lspandsp)
#   asterisk-core-sounds-{en,es,fr,it,ru}-wav, asterisk-moh-opsound-wav
#                       the talk-off corpus: about 2.5 hours of recorded prompts in five
#                       languages and music on hold, all 8 kHz WAV (en and moh alone are
#                       only about 45 minutes)
#   valgrind            callgrind counts the instructions per sample of each detector
#   libpocketsphinx-dev, pocketsphinx-en-us
#                       the speech recognizer and its US English model: bench_voices has
#                       each voice read the guide to it and counts the words it mishears
#                       (pocketsphinx itself is the command-line tool, to check a clip by hand)
# Called by `make bench`. Checking with dpkg first keeps a second run silent and fast.
set -eu

pkgs="libspandsp-dev valgrind pocketsphinx libpocketsphinx-dev pocketsphinx-en-us
asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav
asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-moh-opsound-wav"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "tonetree: installing missing Debian packages for the benchmarks:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
