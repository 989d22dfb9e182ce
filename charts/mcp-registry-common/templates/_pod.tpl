{{/*
Pod-level helpers: images, pull secrets, Pod Security "restricted" defaults, scheduling.
*/}}

{{/*
mcp-registry-common.image: (dict "image" .Values.image "ctx" $) -> REGISTRY/REPOSITORY:TAG[@DIGEST].
global.imageRegistry, when set, replaces image.registry. An empty registry leaves the repository alone
(locally loaded images such as mcp-registry:local). The tag defaults to the chart's appVersion.
*/}}
{{- define "mcp-registry-common.image" -}}
{{- $img := .image -}}
{{- $global := .ctx.Values.global | default dict -}}
{{- $registry := $global.imageRegistry | default $img.registry | default "" -}}
{{- $tag := $img.tag | default .ctx.Chart.AppVersion | toString -}}
{{- $ref := $img.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $img.repository }}{{ end -}}
{{- if $tag }}{{ $ref = printf "%s:%s" $ref $tag }}{{ end -}}
{{- if $img.digest }}{{ $ref = printf "%s@%s" $ref $img.digest }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/*
mcp-registry-common.imagePullSecrets: (dict "ctx" $ "secrets" .Values.imagePullSecrets): global ones first,
names or {name: …} objects, de-duplicated. Renders the whole `imagePullSecrets:` key, or nothing.
*/}}
{{- define "mcp-registry-common.imagePullSecrets" -}}
{{- $global := .ctx.Values.global | default dict -}}
{{- $names := list -}}
{{- range (concat ($global.imagePullSecrets | default list) (.secrets | default list)) -}}
{{- $n := "" -}}
{{- if typeIs "string" . }}{{ $n = . }}{{ else if . }}{{ $n = .name | default "" }}{{ end -}}
{{- if and $n (not (has $n $names)) }}{{ $names = append $names $n }}{{ end -}}
{{- end -}}
{{- if $names }}
imagePullSecrets:
{{- range $names }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
The Pod Security "restricted" baseline. Charts pass only what differs (uid/gid/fsGroup); users override on top
(mergeOverwrite: their keys win, nested maps merge).
*/}}
{{- define "mcp-registry-common.restrictedPodSecurityContext" -}}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "mcp-registry-common.restrictedContainerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* mcp-registry-common.podSecurityContext: (dict "override" .Values.podSecurityContext) -> YAML map. */}}
{{- define "mcp-registry-common.podSecurityContext" -}}
{{- $base := include "mcp-registry-common.restrictedPodSecurityContext" . | fromYaml -}}
{{- toYaml (mergeOverwrite $base (deepCopy (.override | default dict))) -}}
{{- end -}}

{{/* mcp-registry-common.containerSecurityContext: (dict "override" .Values.containerSecurityContext). */}}
{{- define "mcp-registry-common.containerSecurityContext" -}}
{{- $base := include "mcp-registry-common.restrictedContainerSecurityContext" . | fromYaml -}}
{{- toYaml (mergeOverwrite $base (deepCopy (.override | default dict))) -}}
{{- end -}}

{{/*
mcp-registry-common.scheduling: (dict "ctx" $ "values" .Values ["component" "x"]): nodeSelector, affinity,
tolerations, priorityClassName and topologySpreadConstraints (a constraint without labelSelector gets the
workload's selector labels). Renders pod-spec keys, or nothing.
*/}}
{{- define "mcp-registry-common.scheduling" -}}
{{- $v := .values -}}
{{- with $v.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $v.topologySpreadConstraints }}
{{- $selector := include "mcp-registry-common.selectorLabels" . | fromYaml }}
{{- $constraints := list }}
{{- range $v.topologySpreadConstraints }}
{{- $c := deepCopy . }}
{{- if not $c.labelSelector }}{{ $_ := set $c "labelSelector" (dict "matchLabels" $selector) }}{{ end }}
{{- $constraints = append $constraints $c }}
{{- end }}
topologySpreadConstraints:
  {{- toYaml $constraints | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
mcp-registry-common.storageClass: (dict "persistence" .Values.persistence "ctx" $) -> `storageClassName: …`
or nothing. The workload's own storageClass wins over global.storageClass; "-" means "" (no dynamic
provisioning class, the cluster default is not used).
*/}}
{{- define "mcp-registry-common.storageClass" -}}
{{- $global := .ctx.Values.global | default dict -}}
{{- $sc := .persistence.storageClass | default $global.storageClass | default "" -}}
{{- if eq $sc "-" }}
storageClassName: ""
{{- else if $sc }}
storageClassName: {{ $sc | quote }}
{{- end -}}
{{- end -}}

{{/*
mcp-registry-common.hookAnnotations: (dict "hook" "pre-install,pre-upgrade" "weight" -10). Hooks are
deleted only before the next run creates them again, so their logs stay readable; Argo CD maps these
annotations to PreSync hooks with BeforeHookCreation.
*/}}
{{- define "mcp-registry-common.hookAnnotations" -}}
helm.sh/hook: {{ .hook }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: {{ .deletePolicy | default "before-hook-creation" }}
{{- end -}}
