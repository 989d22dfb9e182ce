# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# PKI and kubeconfigs of the local cluster, with plain openssl: one CA signs every serving and client cert.
# Identities follow what the API server's Node and RBAC authorizers expect (O=system:nodes for the kubelet,
# system:kube-controller-manager, system:kube-scheduler, system:kube-proxy, system:masters for the admin).
# ECDSA P-256 keys: generated in milliseconds, accepted by every component. Requires lib/common.sh.

PKI="$STATE/pki"

# gen_cert NAME CN ORG KIND [SAN,...] — key + cert signed by the CA. KIND: server | client.
gen_cert() {
  local name=$1 cn=$2 org=$3 kind=$4 sans=${5:-}
  local ext="$PKI/$name.ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  local subj="/CN=$cn"
  [ -n "$org" ] && subj="/O=$org$subj"
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ "$kind" = server ]; then echo "extendedKeyUsage=serverAuth"; else echo "extendedKeyUsage=clientAuth"; fi
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null || die "openssl could not sign $name"
  rm -f "$PKI/$name.csr" "$ext"
}

# write_kubeconfig FILE USER CERT_NAME — a kubeconfig for USER authenticating with $PKI/CERT_NAME.{crt,key}.
write_kubeconfig() {
  local file=$1 user=$2 cert=$3
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mcp-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$cert.crt")
    client-key-data: $(base64 -w0 "$PKI/$cert.key")
contexts:
- name: mcp-local
  context:
    cluster: mcp-local
    user: $user
current-context: mcp-local
EOF
  chmod 0600 "$file"
}

# ensure_pki — create the CA, certs and kubeconfigs unless this state dir already has them (idempotent up).
ensure_pki() {
  if [ -f "$PKI/.complete" ]; then return 0; fi
  local t0; t0=$(now_ms)
  rm -rf "$PKI"; mkdir -p "$PKI"; chmod 0700 "$PKI"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=mcp-local-ca" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$PKI/ca.crt" 2>/dev/null || die "openssl could not create the CA"

  # The API server is reached as the bridge IP (host, kubelet), as the first Service IP (pods) and by name.
  local apiserver_sans="IP:$BRIDGE_IP,IP:$APISERVER_SVC_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes"
  apiserver_sans+=",DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  gen_cert apiserver kube-apiserver "" server "$apiserver_sans"
  # The API server's client identity towards kubelets (logs, exec, port-forward); system:masters so that the
  # kubelet's webhook authorization allows it.
  gen_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
  gen_cert kubelet "$NODE_NAME" "" server "IP:$BRIDGE_IP,DNS:$NODE_NAME"
  # The Node authorizer and NodeRestriction admission need exactly this identity for the kubelet.
  gen_cert kubelet-client "system:node:$NODE_NAME" system:nodes client
  gen_cert controller-manager system:kube-controller-manager "" client
  gen_cert scheduler system:kube-scheduler "" client
  gen_cert kube-proxy system:kube-proxy "" client
  gen_cert admin kubernetes-admin system:masters client
  # Service-account token signing key pair (RSA: what every client library verifies).
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 0600 "$PKI"/*.key

  write_kubeconfig "$STATE/kubelet.kubeconfig" "system:node:$NODE_NAME" kubelet-client
  write_kubeconfig "$STATE/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  write_kubeconfig "$STATE/scheduler.kubeconfig" system:kube-scheduler scheduler
  write_kubeconfig "$STATE/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
  write_kubeconfig "$KUBECONFIG_OUT" kubernetes-admin admin
  touch "$PKI/.complete"
  timing "PKI and kubeconfigs" "$t0"
}
