{{/*
The bundled stores (postgresql, redis, mongodb charts) share one shape: a single-replica StatefulSet with a
PVC, a headless and a client Service, and a NetworkPolicy that admits only the listed clients. The skeleton
lives here; each chart passes its container specifics. Values every store chart has: image,
imagePullSecrets, serviceAccount, podAnnotations, podLabels, podSecurityContext, containerSecurityContext,
resources, nodeSelector, affinity, tolerations, topologySpreadConstraints, priorityClassName,
terminationGracePeriodSeconds, lifecycle, persistence, service, networkPolicy.
*/}}

{{/*
mcp-registry-common.networkPolicy.dnsEgress: (dict "to" peers) -> one egress rule for DNS (UDP+TCP 53).
No peers: any destination on port 53 (kube-dns, NodeLocal DNSCache and host-process resolvers alike).
*/}}
{{- define "mcp-registry-common.networkPolicy.dnsEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/*
mcp-registry-common.store.statefulset: (dict "ctx" $ "port" 5432 "portName" "postgresql"
  "container" YAML "volumes" YAML "annotations" (dict …))
`container` holds the main container's command/args/env/probes/volumeMounts; `volumes` extra volume items.
The data volume is named `data`: a PVC template, an existing claim, or an emptyDir (persistence off).
*/}}
{{- define "mcp-registry-common.store.statefulset" -}}
{{- $ctx := .ctx -}}
{{- $v := $ctx.Values -}}
{{- $fullname := include "mcp-registry-common.fullname" $ctx -}}
{{- $sel := dict "ctx" $ctx -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "mcp-registry-common.labels" $sel | nindent 4 }}
spec:
  replicas: 1
  serviceName: {{ $fullname }}-headless
  podManagementPolicy: OrderedReady
  updateStrategy:
    type: RollingUpdate
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: Retain
    whenScaled: Retain
  selector:
    matchLabels:
      {{- include "mcp-registry-common.selectorLabels" $sel | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mcp-registry-common.labels" $sel | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- $annotations := merge (dict) (.annotations | default dict) ($v.podAnnotations | default dict) }}
      {{- with $annotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "mcp-registry-common.serviceAccountName" (dict "ctx" $ctx "sa" $v.serviceAccount) }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "mcp-registry-common.podSecurityContext" (dict "override" $v.podSecurityContext) | nindent 8 }}
      {{- with include "mcp-registry-common.imagePullSecrets" (dict "ctx" $ctx "secrets" $v.imagePullSecrets) }}{{ . | trim | nindent 6 }}{{ end }}
      {{- with include "mcp-registry-common.scheduling" (dict "ctx" $ctx "values" $v) }}{{ . | trim | nindent 6 }}{{ end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      containers:
        - name: {{ $ctx.Chart.Name }}
          image: {{ include "mcp-registry-common.image" (dict "image" $v.image "ctx" $ctx) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          securityContext:
            {{- include "mcp-registry-common.containerSecurityContext" (dict "override" $v.containerSecurityContext) | nindent 12 }}
          ports:
            - name: {{ .portName }}
              containerPort: {{ .port }}
              protocol: TCP
          {{- .container | trim | nindent 10 }}
          {{- with $v.lifecycle }}
          lifecycle:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
      volumes:
        {{- with .volumes }}
        {{- . | trim | nindent 8 }}
        {{- end }}
        {{- if not $v.persistence.enabled }}
        - name: data
          emptyDir: {}
        {{- else if $v.persistence.existingClaim }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ include "mcp-registry-common.tpl" (dict "value" $v.persistence.existingClaim "ctx" $ctx) }}
        {{- end }}
  {{- if and $v.persistence.enabled (not $v.persistence.existingClaim) }}
  volumeClaimTemplates:
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: data
        labels:
          {{- include "mcp-registry-common.selectorLabels" $sel | nindent 10 }}
        {{- with $v.persistence.annotations }}
        annotations:
          {{- toYaml . | nindent 10 }}
        {{- end }}
      spec:
        accessModes:
          {{- toYaml $v.persistence.accessModes | nindent 10 }}
        {{- with include "mcp-registry-common.storageClass" (dict "persistence" $v.persistence "ctx" $ctx) }}{{ . | trim | nindent 8 }}{{ end }}
        resources:
          requests:
            storage: {{ $v.persistence.size | quote }}
  {{- end }}
{{- end -}}

{{/*
mcp-registry-common.store.services: (dict "ctx" $ "port" 5432 "portName" "postgresql"): the headless
Service (stable pod DNS for the StatefulSet) and the client Service the registry connects to.
*/}}
{{- define "mcp-registry-common.store.services" -}}
{{- $ctx := .ctx -}}
{{- $fullname := include "mcp-registry-common.fullname" $ctx -}}
{{- $sel := dict "ctx" $ctx -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}-headless
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "mcp-registry-common.labels" $sel | nindent 4 }}
spec:
  type: ClusterIP
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .portName }}
      protocol: TCP
  selector:
    {{- include "mcp-registry-common.selectorLabels" $sel | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "mcp-registry-common.labels" $sel | nindent 4 }}
  {{- with $ctx.Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: ClusterIP
  ports:
    - name: {{ .portName }}
      port: {{ $ctx.Values.service.port }}
      targetPort: {{ .portName }}
      protocol: TCP
  selector:
    {{- include "mcp-registry-common.selectorLabels" $sel | nindent 4 }}
{{- end -}}

{{/*
mcp-registry-common.store.networkPolicy: (dict "ctx" $ "port" 5432). Ingress to the store port only from
networkPolicy.allowedClients (NetworkPolicyPeers, rendered with tpl: the umbrella chart admits exactly the
registry's server and migration pods of the release) and from pods labelled FULLNAME-client=true; egress
only DNS. Exec probes and the kubelet are not subject to NetworkPolicy.
*/}}
{{- define "mcp-registry-common.store.networkPolicy" -}}
{{- $ctx := .ctx -}}
{{- $np := $ctx.Values.networkPolicy -}}
{{- $fullname := include "mcp-registry-common.fullname" $ctx -}}
{{- $sel := dict "ctx" $ctx -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "mcp-registry-common.labels" $sel | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mcp-registry-common.selectorLabels" $sel | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              {{ $fullname }}-client: "true"
        {{- with $np.allowedClients }}
        {{- include "mcp-registry-common.tpl" (dict "value" . "ctx" $ctx) | nindent 8 }}
        {{- end }}
      ports:
        - port: {{ .port }}
          protocol: TCP
  egress:
    {{- include "mcp-registry-common.networkPolicy.dnsEgress" (dict "to" $np.dnsTo) | nindent 4 }}
{{- end -}}

{{/* mcp-registry-common.serviceAccount: (dict "ctx" $ "sa" .Values.serviceAccount ["component" c]). */}}
{{- define "mcp-registry-common.serviceAccount" -}}
{{- if .sa.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "mcp-registry-common.serviceAccountName" . }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "mcp-registry-common.labels" . | nindent 4 }}
  {{- with .sa.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ .sa.automountServiceAccountToken | default false }}
{{- end -}}
{{- end -}}
