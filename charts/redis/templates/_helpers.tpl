{{/* Helpers of the redis chart; the shared ones are in mcp-registry-common. */}}

{{/* redis.secretName: auth.existingSecret (tpl), else the chart's Secret (inline password). */}}
{{- define "redis.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- include "mcp-registry-common.tpl" (dict "value" .Values.auth.existingSecret "ctx" .) -}}
{{- else -}}
{{- include "mcp-registry-common.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* redis.inlineSecretData: stringData of the chart's Secret; fails when no password is configured. */}}
{{- define "redis.inlineSecretData" -}}
{{- if not .Values.auth.existingSecret -}}
{{- include "mcp-registry-common.requireCredential" (dict "chart" "redis" "secret" "" "value" .Values.auth.password "secretKey" "auth.existingSecret" "valueKey" "auth.password") -}}
{{ .Values.auth.secretKeys.password }}: {{ .Values.auth.password | quote }}
{{- end -}}
{{- end -}}

{{/* redis.conf: the chart's defaults, then `config`. No secret here: the password is a flag (see below). */}}
{{- define "redis.conf" -}}
{{- $conf := merge (deepCopy .Values.config) (dict "bind" "0.0.0.0 -::*" "port" "6379" "dir" "/data" "protected-mode" "yes" "daemonize" "no" "loglevel" "notice" "logfile" "\"\"") -}}
{{- range $k, $v := $conf }}
{{ $k }} {{ $v }}
{{- end }}
{{- end -}}

{{/* redis.container: the main container's specifics. */}}
{{- define "redis.container" -}}
{{- $probe := list "redis-cli" "-h" "127.0.0.1" "-p" "6379" "ping" -}}
# redis-server reads no password file: the kubelet expands $(REDIS_PASSWORD) from the Secret into the
# argument (no shell needed). It is visible to whoever can read /proc of this container, never in the pod spec.
command:
  - redis-server
args:
  - /etc/redis/redis.conf
  - --requirepass
  - $(REDIS_PASSWORD)
env:
  - name: REDIS_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ include "redis.secretName" . }}
        key: {{ .Values.auth.secretKeys.password }}
  # redis-cli (the probes) authenticates with this variable.
  - name: REDISCLI_AUTH
    valueFrom:
      secretKeyRef:
        name: {{ include "redis.secretName" . }}
        key: {{ .Values.auth.secretKeys.password }}
startupProbe:
  exec:
    command:
      {{- toYaml $probe | nindent 6 }}
  periodSeconds: 2
  timeoutSeconds: 2
  failureThreshold: 30
readinessProbe:
  exec:
    command:
      {{- toYaml $probe | nindent 6 }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 3
livenessProbe:
  exec:
    command:
      {{- toYaml $probe | nindent 6 }}
  periodSeconds: 15
  timeoutSeconds: 3
  failureThreshold: 4
volumeMounts:
  - name: data
    mountPath: /data
  - name: config
    mountPath: /etc/redis
    readOnly: true
{{- end -}}
