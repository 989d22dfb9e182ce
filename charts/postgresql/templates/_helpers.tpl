{{/* Helpers of the postgresql chart; the shared ones are in mcp-registry-common. */}}

{{/* postgresql.secretName: auth.existingSecret (tpl), else the chart's Secret (inline passwords). */}}
{{- define "postgresql.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- include "mcp-registry-common.tpl" (dict "value" .Values.auth.existingSecret "ctx" .) -}}
{{- else -}}
{{- include "mcp-registry-common.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* postgresql.inlineSecretData: stringData of the chart's Secret; fails when a needed password is missing. */}}
{{- define "postgresql.inlineSecretData" -}}
{{- $a := .Values.auth -}}
{{- if not $a.existingSecret -}}
{{- $need := list (list "adminPassword" $a.adminPassword) (list "password" $a.password) -}}
{{- if $a.migrationUsername }}{{ $need = append $need (list "migrationPassword" $a.migrationPassword) }}{{ end -}}
{{- range $need -}}
{{- include "mcp-registry-common.requireCredential" (dict "chart" "postgresql" "secret" "" "value" (index . 1) "secretKey" "auth.existingSecret" "valueKey" (printf "auth.%s" (index . 0))) -}}
{{- end -}}
{{- range $need }}
{{ get $a.secretKeys (index . 0) }}: {{ index . 1 | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* postgresql.secretFiles: the password files of the pod (superuser for the entrypoint, the others for the bootstrap). */}}
{{- define "postgresql.secretFiles" -}}
{{- $a := .Values.auth -}}
{{- $secret := include "postgresql.secretName" . -}}
{{- $files := list (dict "secret" $secret "key" $a.secretKeys.adminPassword "path" "admin-password") (dict "secret" $secret "key" $a.secretKeys.password "path" "password") -}}
{{- if $a.migrationUsername -}}
{{- $files = append $files (dict "secret" $secret "key" $a.secretKeys.migrationPassword "path" "migration-password") -}}
{{- end -}}
{{- toJson $files -}}
{{- end -}}

{{/* postgresql.container: (dict "ctx" $ "probe" command) -> the main container's specifics. */}}
{{- define "postgresql.container" -}}
{{- $v := .ctx.Values -}}
{{- $a := $v.auth -}}
{{- with $v.config }}
args:
  - postgres
  {{- range $k, $val := . }}
  - -c
  - {{ printf "%s=%v" $k $val | quote }}
  {{- end }}
{{- end }}
env:
  - name: POSTGRES_USER
    value: {{ $a.adminUser | quote }}
  - name: POSTGRES_PASSWORD_FILE
    value: /etc/postgresql/secrets/admin-password
  - name: POSTGRES_DB
    value: {{ $a.database | quote }}
  - name: PGDATA
    value: /var/lib/postgresql/data/pgdata
  - name: MCP_REGISTRY_APP_USER
    value: {{ $a.username | quote }}
  - name: MCP_REGISTRY_MIGRATION_USER
    value: {{ $a.migrationUsername | quote }}
startupProbe:
  exec:
    command:
      {{- toYaml .probe | nindent 6 }}
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: {{ $v.startupFailureThreshold }}
readinessProbe:
  exec:
    command:
      {{- toYaml .probe | nindent 6 }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
livenessProbe:
  exec:
    command:
      {{- toYaml .probe | nindent 6 }}
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 6
volumeMounts:
  - name: data
    mountPath: /var/lib/postgresql/data
  - name: run
    mountPath: /var/run/postgresql
  - name: tmp
    mountPath: /tmp
  - name: shm
    mountPath: /dev/shm
  - name: initdb
    mountPath: /docker-entrypoint-initdb.d
    readOnly: true
  - name: secrets
    mountPath: /etc/postgresql/secrets
    readOnly: true
{{- end -}}

{{/* postgresql.volumes: every volume but `data`. */}}
{{- define "postgresql.volumes" -}}
- name: run
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: shm
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.shmSize }}
- name: initdb
  configMap:
    name: {{ include "mcp-registry-common.fullname" . }}-initdb
    defaultMode: 365
{{ include "mcp-registry-common.secretFilesVolume" (dict "name" "secrets" "files" (include "postgresql.secretFiles" . | fromJsonArray)) | trim }}
{{- end -}}
