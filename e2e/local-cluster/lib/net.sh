# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# Host networking of the local cluster: the bridge (node IP), the Service CIDR route, the traffic guard, the
# sysctls the cluster needs, and their complete removal. Requires lib/common.sh.
#
# Traffic rule: only loopback, the bridge, pod IPs and the Service CIDR (routed onto the bridge) carry
# traffic. The guard drops anything the pods would have the host forward to another interface.

# Host sysctls that up (or the kubelet/kube-proxy) may change; saved before and restored by down.
SAVED_SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.ipv4.conf.all.route_localnet vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait)

save_sysctls() {
  [ -f "$STATE/sysctl.saved" ] && return 0
  local k v
  for k in "${SAVED_SYSCTLS[@]}"; do
    v=$(sysctl -n "$k" 2>/dev/null) && printf '%s=%s\n' "$k" "$v"
  done >"$STATE/sysctl.saved"
}

restore_sysctls() {
  [ -f "$STATE/sysctl.saved" ] || return 0
  local line
  while IFS= read -r line; do
    [ "$(sysctl -n "${line%%=*}" 2>/dev/null)" = "${line#*=}" ] || sysctl -qw "$line" >/dev/null 2>&1 \
      || warn "could not restore sysctl $line"
  done <"$STATE/sysctl.saved"
}

# iptables binaries to clean: the nft and legacy backends, IPv4 and IPv6 (kube-proxy and the kubelet program
# both families when the host supports IPv6).
iptables_bins() {
  local b
  for b in iptables-nft ip6tables-nft; do command -v "$b" >/dev/null && echo "$b"; done
  # Legacy only when its tables exist: merely listing them would register (create) legacy tables, after
  # which every iptables-nft call warns about them.
  if [ -s /proc/net/ip_tables_names ] && command -v iptables-legacy >/dev/null; then echo iptables-legacy; fi
  if [ -s /proc/net/ip6_tables_names ] && command -v ip6tables-legacy >/dev/null; then echo ip6tables-legacy; fi
}

setup_network() {
  local t0; t0=$(now_ms)
  # Pods reach Services through the host: routed bridge->bridge, so forwarding must be on, and bridged
  # traffic must traverse iptables (br_netfilter) so that replies from Service backends are un-NATed.
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null \
    || die "net.bridge.bridge-nf-call-iptables is missing: the kernel needs br_netfilter (modprobe br_netfilter)"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge || die "could not create bridge $BRIDGE"
  fi
  # Created before the kubelet starts: its address is the node IP (the kubelet refuses loopback).
  ip addr replace "$BRIDGE_IP/${POD_SUBNET#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Service IPs without a kube-proxy rule (or before one exists) stay on the bridge instead of following the
  # default route off the host.
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$BRIDGE_IP"
  # The guard lives in mangle/FORWARD, which nothing else edits and which runs before filter/FORWARD, where
  # the CNI firewall plugin accepts everything from pod IPs.
  local ipt=iptables
  $ipt -t mangle -N "$GUARD_CHAIN" 2>/dev/null || $ipt -t mangle -F "$GUARD_CHAIN"
  $ipt -t mangle -A "$GUARD_CHAIN" -o "$BRIDGE" -j RETURN
  $ipt -t mangle -A "$GUARD_CHAIN" -j DROP
  $ipt -t mangle -C FORWARD -i "$BRIDGE" -j "$GUARD_CHAIN" 2>/dev/null \
    || $ipt -t mangle -I FORWARD 1 -i "$BRIDGE" -j "$GUARD_CHAIN"
  timing "network ($BRIDGE $BRIDGE_IP, route $SERVICE_CIDR)" "$t0"
}

# remove_iptables_chains — every KUBE-*, CNI-* and our guard chain, in every table of every backend, after
# deleting the rules (in other chains) that jump to them. kube-proxy --cleanup would leave the kubelet's and
# the CNI plugins' chains, so this is done by name.
remove_iptables_chains() {
  local b table rule chain pattern='(KUBE-[A-Z0-9-]*|CNI-[A-Za-z0-9-]*|'"$GUARD_CHAIN"')'
  for b in $(iptables_bins); do
    for table in filter nat mangle raw; do
      "$b" -t "$table" -S >/dev/null 2>&1 || continue
      # Rules in built-in or foreign chains that jump to one of ours.
      "$b" -t "$table" -S 2>/dev/null | grep -E "^-A " | grep -Ev "^-A $pattern " | grep -E -- "-j $pattern( |\$)" \
        | while IFS= read -r rule; do
            eval "\"$b\" -t \"$table\" -D ${rule#-A }" 2>/dev/null || warn "$b -t $table: could not delete: $rule"
          done || true
      # Flush all our chains first (they reference each other), then delete them.
      for chain in $("$b" -t "$table" -S 2>/dev/null | sed -nE "s/^-N $pattern$/\1/p"); do
        "$b" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$b" -t "$table" -S 2>/dev/null | sed -nE "s/^-N $pattern$/\1/p"); do
        "$b" -t "$table" -X "$chain" 2>/dev/null || warn "$b -t $table: could not delete chain $chain"
      done
    done
  done
}

teardown_network() {
  local l
  # veths of pods whose netns is gone vanish on their own; delete any still attached, then the bridge (which
  # takes its address and the Service route with it).
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    for l in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link del "$l" 2>/dev/null || true
    done
    ip link del "$BRIDGE" || warn "could not delete bridge $BRIDGE"
  fi
  ip route del "$SERVICE_CIDR" 2>/dev/null || true
  remove_iptables_chains
  # Connection-tracking entries of pod and Service addresses.
  if command -v conntrack >/dev/null; then
    conntrack -D -s "$POD_SUBNET" >/dev/null 2>&1 || true
    conntrack -D -d "$POD_SUBNET" >/dev/null 2>&1 || true
    conntrack -D -d "$SERVICE_CIDR" >/dev/null 2>&1 || true
  fi
  restore_sysctls
}
