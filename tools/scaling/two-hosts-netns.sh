#!/bin/bash
# Runs `sentiment --distributed` as two "hosts" on one machine: two network namespaces (each with its own hostname,
# unshare --uts) joined by a veth pair, mpirun launching the remote daemon through an `ip netns exec` stand-in for
# ssh (--mca plm_rsh_agent), TCP only (btl self,tcp) over the veth. Needs root, iproute2, util-linux and Open MPI.
# Removes its namespaces on exit, also on failure or Ctrl-C.
# Usage: tools/scaling/two-hosts-netns.sh [extra sentiment options, e.g. --limit 200 --epochs 1 --verbose 0]
#        tools/scaling/two-hosts-netns.sh bench-distributed [its options, e.g. --steps 20]   (the step-time benchmark instead)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "two-hosts-netns: needs root (network namespaces)" >&2; exit 2; }
for tool in ip unshare mpirun dotnet; do
    command -v "$tool" >/dev/null || { echo "two-hosts-netns: '$tool' is missing" >&2; exit 2; }
done
repo=$(cd "$(dirname "$0")/../.." && pwd)
dll="$repo/src/CnnLstm.Examples/bin/Release/net10.0/CnnLstm.Examples.dll"
[ -f "$dll" ] || { echo "two-hosts-netns: build first (dotnet build KerasStyle.sln -c Release): $dll is missing" >&2; exit 2; }
export KERASSTYLE_DATA="${KERASSTYLE_DATA:-$repo/../shared/data}"
tag="ks$$"
ns0="${tag}h0"; ns1="${tag}h1"
work=$(mktemp -d)
cleanup() {
    ip netns del "$ns0" 2>/dev/null || true
    ip netns del "$ns1" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
ip netns add "$ns0"
ip netns add "$ns1"
ip link add "${tag}a" type veth peer name "${tag}b"
ip link set "${tag}a" netns "$ns0"
ip link set "${tag}b" netns "$ns1"
ip -n "$ns0" addr add 10.231.0.1/24 dev "${tag}a"
ip -n "$ns1" addr add 10.231.0.2/24 dev "${tag}b"
for ns in "$ns0" "$ns1"; do ip -n "$ns" link set lo up; done
ip -n "$ns0" link set "${tag}a" up
ip -n "$ns1" link set "${tag}b" up

# The ssh stand-in: Open MPI calls it as `agent [options] HOST COMMAND...`; HOST 10.231.0.2 is namespace 1.
cat > "$work/agent" <<AGENT
#!/bin/bash
while [ "\${1#-}" != "\$1" ]; do shift; done
host=\$1; shift
case "\$host" in
    10.231.0.1|host0) ns=$ns0; name=host0 ;;
    10.231.0.2|host1) ns=$ns1; name=host1 ;;
    *) echo "agent: unknown host \$host" >&2; exit 255 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$name; \$*"
AGENT
chmod +x "$work/agent"
printf '10.231.0.1 slots=1\n10.231.0.2 slots=1\n' > "$work/hostfile"
cd "$work"
launch() {
    ip netns exec "$ns0" unshare --uts sh -c "hostname host0; exec mpirun --allow-run-as-root -np 2 --hostfile $work/hostfile \
        --mca plm_rsh_agent $work/agent --mca btl self,tcp --mca btl_tcp_if_include 10.231.0.0/24 --mca oob_tcp_if_include 10.231.0.0/24 \
        -x KERASSTYLE_DATA $*"
}
# Where the ranks run: each prints its hostname and its address on the veth.
launch sh -c "'echo rank \$OMPI_COMM_WORLD_RANK on \$(hostname) \$(ip -br addr show | grep 10.231)'"
set -x
if [ "${1:-}" = bench-distributed ]; then
    shift
    launch dotnet "$dll" bench-distributed "$@"
else
    launch dotnet "$dll" sentiment --distributed --output "$work/sentiment.keras" "$@"
fi
