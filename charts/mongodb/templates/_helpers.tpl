{{/* Helpers of the mongodb chart; the shared ones are in mcp-registry-common. */}}

{{/* mongodb.secretName: auth.existingSecret (tpl), else the chart's Secret (inline passwords). */}}
{{- define "mongodb.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- include "mcp-registry-common.tpl" (dict "value" .Values.auth.existingSecret "ctx" .) -}}
{{- else -}}
{{- include "mcp-registry-common.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* mongodb.inlineSecretData: stringData of the chart's Secret; fails when a needed password is missing. */}}
{{- define "mongodb.inlineSecretData" -}}
{{- $a := .Values.auth -}}
{{- if not $a.existingSecret -}}
{{- $need := list (list "rootPassword" $a.rootPassword) (list "password" $a.password) -}}
{{- range $need -}}
{{- include "mcp-registry-common.requireCredential" (dict "chart" "mongodb" "secret" "" "value" (index . 1) "secretKey" "auth.existingSecret" "valueKey" (printf "auth.%s" (index . 0))) -}}
{{- end -}}
{{- range $need }}
{{ get $a.secretKeys (index . 0) }}: {{ index . 1 | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* mongodb.container: the main container's specifics (the image's entrypoint and CMD stay). */}}
{{- define "mongodb.container" -}}
{{- $a := .Values.auth -}}
{{- $probe := list "mongosh" "--quiet" "--norc" "--host" "127.0.0.1" "--port" "27017" "--eval" "db.adminCommand({ ping: 1 }).ok" -}}
env:
  - name: MONGO_INITDB_ROOT_USERNAME
    value: {{ $a.rootUser | quote }}
  - name: MONGO_INITDB_ROOT_PASSWORD_FILE
    value: /etc/mongodb/secrets/root-password
  - name: MONGO_INITDB_DATABASE
    value: {{ $a.database | quote }}
  - name: MCP_REGISTRY_APP_USER
    value: {{ $a.username | quote }}
  # mongosh (probes, init) keeps its history and logs under $HOME: a volume, as the root is read-only.
  - name: HOME
    value: /tmp
startupProbe:
  exec:
    command:
      {{- toYaml $probe | nindent 6 }}
  periodSeconds: 5
  timeoutSeconds: 10
  failureThreshold: {{ .Values.startupFailureThreshold }}
readinessProbe:
  exec:
    command:
      {{- toYaml $probe | nindent 6 }}
  periodSeconds: 10
  timeoutSeconds: 10
  failureThreshold: 3
livenessProbe:
  exec:
    command:
      {{- toYaml $probe | nindent 6 }}
  periodSeconds: 30
  timeoutSeconds: 10
  failureThreshold: 4
volumeMounts:
  - name: data
    mountPath: /data/db
  - name: configdb
    mountPath: /data/configdb
  - name: tmp
    mountPath: /tmp
  - name: initdb
    mountPath: /docker-entrypoint-initdb.d
    readOnly: true
  - name: secrets
    mountPath: /etc/mongodb/secrets
    readOnly: true
{{- end -}}

{{/* mongodb.volumes: every volume but `data`. */}}
{{- define "mongodb.volumes" -}}
{{- $a := .Values.auth -}}
{{- $secret := include "mongodb.secretName" . -}}
{{- $files := list (dict "secret" $secret "key" $a.secretKeys.rootPassword "path" "root-password") (dict "secret" $secret "key" $a.secretKeys.password "path" "password") -}}
- name: configdb
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: initdb
  configMap:
    name: {{ include "mcp-registry-common.fullname" . }}-initdb
{{ include "mcp-registry-common.secretFilesVolume" (dict "name" "secrets" "files" $files) | trim }}
{{- end -}}
