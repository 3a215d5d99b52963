#!/bin/sh
# Entrypoint of the runner image: runs pythond as the unprivileged user
# `pythond`, with the group of the mounted Docker socket added so that it can
# start collector containers. That group is the host's `docker` group, whose
# id differs from host to host, so it is read here at start rather than baked
# into the image or asked of the user.
#
# The container starts as root only for this: setpriv switches to pythond
# before node runs, and no capability survives the switch. A socket that is
# not group-writable (mode 0600) is usable by root alone; then pythond stays
# root, and says so. Started as another user (docker run --user), it runs as is.
set -eu

run=/app/dist/src/main.js   # through its first line: node and its flags
[ "$(id -u)" = 0 ] || exec $run "$@"

socket=/var/run/docker.sock
case ${DOCKER_HOST:-} in
    unix://*) socket=${DOCKER_HOST#unix://} ;;
    ?*) socket= ;;   # a TCP engine: no socket to join
esac

if [ -n "$socket" ] && [ -S "$socket" ]; then
    mode=$(stat -c %a "$socket")
    if [ $(( (0$mode >> 3) & 6 )) -ne 6 ]; then
        echo "pythond: $socket (mode $mode) is not group-readable and -writable; running as root" >&2
        exec $run "$@"
    fi
    exec setpriv --reuid=pythond --regid=pythond --groups="$(stat -c %g "$socket")" --inh-caps=-all -- $run "$@"
fi
exec setpriv --reuid=pythond --regid=pythond --clear-groups --inh-caps=-all -- $run "$@"
