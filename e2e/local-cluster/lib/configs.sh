# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# Configuration files of the cluster's components, written into $STATE. Each setting that is not a default
# is here because the cluster fails (or leaks traffic/state onto the host) without it; the comment says why.
# Requires lib/common.sh and lib/pki.sh.

PAUSE_IMAGE="registry.k8s.io/pause:3.10"

write_containerd_config() {
  mkdir -p "$STATE/containerd/root" "$STATE/run/containerd" "$STATE/cni/net.d"
  cat >"$STATE/containerd/config.toml" <<EOF
# Our own containerd: own socket, root and state, so a system containerd (if any) is untouched.
version = 2
root = "$STATE/containerd/root"
state = "$STATE/run/containerd"
# "opt" would create /opt/containerd; the others are snapshotters we do not use.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  # Built locally by e2e/local-cluster (catatonit); it can never be pulled here.
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: without this runc cannot set oom_score_adj -998 and every sandbox
  # fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # Network namespaces under our state dir (not /run/netns), so down finds and unmounts every one of them.
  netns_mounts_under_state_dir = true
  # Non-root pods (restricted Pod Security) may bind ports < 1024 (CoreDNS on 53) without capabilities.
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  # exec/attach/port-forward streaming on loopback only.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # The kubelet uses the cgroupfs driver (no systemd here).
        SystemdCgroup = false
        # runc's state under ours instead of /run/containerd/runc.
        Root = "$STATE/run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    # Debian's containernetworking-plugins; our own conflist dir instead of /etc/cni/net.d.
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
}

# bridge + host-local IPAM on the bridge we create ourselves; portmap for hostPort; firewall because a dockerd
# on the host sets the FORWARD policy to DROP. ipMasq off: pod traffic is never NATed off the host.
write_cni_config() {
  mkdir -p "$STATE/cni/net.d" "$STATE/cni/ipam"
  cat >"$STATE/cni/net.d/10-mcp-local.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "mcp-local",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$BRIDGE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF
}

write_kubelet_config() {
  mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
  # Pods with dnsPolicy Default get this (no nameserver): no pod may query a resolver off the host.
  echo "# intentionally empty: the local cluster has no upstream DNS" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The node IP is the bridge's: the kubelet refuses a loopback node IP.
address: $BRIDGE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
rotateCertificates: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# No systemd here; and on a cgroup v1 host 1.35+ refuses to start unless failCgroupV1 is false.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: $STATE/resolv.conf
podLogsDir: $STATE/pod-logs
# Shared CI disks can be fuller than the default thresholds: do not evict or taint for disk pressure, and
# never garbage-collect images (they cannot be pulled back).
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
}

write_kube_proxy_config() {
  cat >"$STATE/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_SUBNET
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts on the node IP only; no localhost NodePorts, so kube-proxy leaves route_localnet alone.
nodePortAddresses: ["$BRIDGE_IP/32"]
iptables: {localhostNodePorts: false}
# 0 = leave the host's conntrack sysctls as they are (kube-proxy would raise them otherwise).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# CoreDNS: the Deployment/Service/RBAC with this cluster's addresses and image substituted.
render_coredns_manifest() {
  sed -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" "$LC_DIR/manifests/coredns.yaml"
}

# Command lines of the components. Proxy variables are removed: the API server would send webhook traffic
# through a proxy from the caller's environment.
NO_PROXY_ENV=(env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u NO_PROXY -u no_proxy
  -u ALL_PROXY -u all_proxy)
