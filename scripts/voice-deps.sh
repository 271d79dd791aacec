#!/usr/bin/env bash
# Offline voice (pocketsphinx speech-to-text, flite text-to-speech, ffmpeg decoders): checks
# that the Debian packages are present, installs them when missing and running as root, and
# prints the Go build tag to use on stdout ("offlinevoice", or nothing when they cannot be
# had: the gateway then builds without offline voice and its voice endpoints answer 503
# VOICE_UNAVAILABLE). Messages go to stderr. VOICE_OFFLINE=0 skips the offline voice.
set -euo pipefail

PACKAGES=(libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev ffmpeg)

log() { printf 'voice-deps: %s\n' "$*" >&2; }

present() {
  [[ -f /usr/include/pocketsphinx/pocketsphinx.h && -f /usr/include/flite/flite.h \
     && -d /usr/share/pocketsphinx/model/en-us/en-us && -x "$(command -v ffmpeg || true)" ]] \
    && command -v gcc >/dev/null 2>&1
}

if [[ "${VOICE_OFFLINE:-1}" == "0" ]]; then
  log "VOICE_OFFLINE=0: building without the offline voice"
  exit 0
fi
if ! present; then
  if [[ "$(id -u)" -ne 0 ]]; then
    log "missing: ${PACKAGES[*]} (install them as root) -- building without the offline voice"
    exit 0
  fi
  log "apt-get install -y ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get -o DPkg::Lock::Timeout=300 update -qq \
      && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${PACKAGES[@]}"; } >&2 \
    || { log "apt-get failed -- building without the offline voice"; exit 0; }
  present || { log "packages installed but headers/models not found -- building without the offline voice"; exit 0; }
fi
echo offlinevoice
