{{/*
Helpers of the umbrella chart. The stack renders only the shared credentials Secret (optional) and checks
that the registry's settings agree with the bundled stores'; everything else is the subcharts'.
*/}}

{{/* mcp-registry-stack.credentialsSecret: the tpl-rendered credentials.secretName. */}}
{{- define "mcp-registry-stack.credentialsSecret" -}}
{{- include "mcp-registry-common.tpl" (dict "value" .Values.credentials.secretName "ctx" .) -}}
{{- end -}}

{{/*
mcp-registry-stack.credentialKeys -> JSON list of [valuesKey, secretKey, why, secretName]: every credential the
enabled components need (the bundled stores' and the registry's, external databases included), de-duplicated.
`valuesKey` names the entry of `credentials.values` that `credentials.create` renders.
*/}}
{{- define "mcp-registry-stack.credentialKeys" -}}
{{- $app := index .Values "mcp-registry" -}}
{{- $appSecret := dict -}}
{{- range $name, $c := $app.secrets -}}
{{- if kindIs "map" $c -}}
{{- $_ := set $appSecret $name (include "mcp-registry-common.tpl" (dict "value" ($c.existingSecret | default $app.secrets.existingSecret) "ctx" $)) -}}
{{- end -}}
{{- end -}}
{{- $keys := list -}}
{{- if .Values.postgresql.enabled -}}
{{- $pg := .Values.postgresql.auth -}}
{{- $s := include "mcp-registry-common.tpl" (dict "value" $pg.existingSecret "ctx" $) -}}
{{- $keys = append $keys (list "postgresAdminPassword" $pg.secretKeys.adminPassword "postgresql.enabled" $s) -}}
{{- $keys = append $keys (list "postgresPassword" $pg.secretKeys.password "postgresql.enabled" $s) -}}
{{- if $pg.migrationUsername -}}
{{- $keys = append $keys (list "postgresMigrationPassword" $pg.secretKeys.migrationPassword "postgresql.auth.migrationUsername" $s) -}}
{{- end -}}
{{- end -}}
{{- if .Values.redis.enabled -}}
{{- $keys = append $keys (list "redisPassword" .Values.redis.auth.secretKeys.password "redis.enabled" (include "mcp-registry-common.tpl" (dict "value" .Values.redis.auth.existingSecret "ctx" $))) -}}
{{- end -}}
{{- if .Values.mongodb.enabled -}}
{{- $m := .Values.mongodb.auth -}}
{{- $s := include "mcp-registry-common.tpl" (dict "value" $m.existingSecret "ctx" $) -}}
{{- $keys = append $keys (list "mongodbRootPassword" $m.secretKeys.rootPassword "mongodb.enabled" $s) -}}
{{- $keys = append $keys (list "mongodbPassword" $m.secretKeys.password "mongodb.enabled" $s) -}}
{{- end -}}
{{- /* The registry's own needs (external databases included), resolved by the registry chart's own helpers
(named templates are shared by the whole release; its values include what the stores exported). */ -}}
{{- $appCtx := dict "Values" $app "Release" .Release -}}
{{- $backend := include "mcp-registry.backend" $appCtx -}}
{{- if eq $backend "postgres" -}}
{{- $keys = append $keys (list "postgresPassword" $app.secrets.postgresPassword.key "the registry's postgres backend" $appSecret.postgresPassword) -}}
{{- if $app.database.postgres.migrationUser -}}
{{- $keys = append $keys (list "postgresMigrationPassword" $app.secrets.postgresMigrationPassword.key "mcp-registry.database.postgres.migrationUser" $appSecret.postgresMigrationPassword) -}}
{{- end -}}
{{- else if eq $backend "mongodb" -}}
{{- $keys = append $keys (list "mongodbPassword" $app.secrets.mongodbPassword.key "the registry's mongodb backend" $appSecret.mongodbPassword) -}}
{{- end -}}
{{- if and $app.redis.requirePassword (ne (include "mcp-registry.redisMode" $appCtx) "disabled") -}}
{{- $keys = append $keys (list "redisPassword" $app.secrets.redisPassword.key "the registry's Redis" $appSecret.redisPassword) -}}
{{- end -}}
{{- if $app.auth.admin.enabled -}}
{{- $keys = append $keys (list "adminToken" $app.secrets.adminToken.key "mcp-registry.auth.admin.enabled" $appSecret.adminToken) -}}
{{- end -}}
{{- $seen := dict -}}
{{- $out := list -}}
{{- range $keys -}}
{{- $id := printf "%s/%s" (index . 3) (index . 1) -}}
{{- if and (index . 3) (not (hasKey $seen $id)) }}{{ $_ := set $seen $id true }}{{ $out = append $out . }}{{ end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* mcp-registry-stack.expect: (dict "what" "…" "stack" A "registry" B) — fail unless A == B. */}}
{{- define "mcp-registry-stack.expect" -}}
{{- if ne (toString .stack) (toString .registry) -}}
{{- fail (printf "mcp-registry-stack: %s disagree: %q vs %q — set both to the same value" .what (toString .stack) (toString .registry)) -}}
{{- end -}}
{{- end -}}

{{/*
mcp-registry-stack.validate: the registry is wired to the bundled stores by import-values (which store is
enabled) and by defaults that agree with theirs (names, users, ports, Secret keys). Values changed on one side
only would make the registry talk to a database that does not exist: fail with the pair to fix.
*/}}
{{- define "mcp-registry-stack.validate" -}}
{{- $app := index .Values "mcp-registry" -}}
{{- $backend := $app.database.backend -}}
{{- if and .Values.postgresql.enabled .Values.mongodb.enabled (eq $backend "auto") -}}
{{- fail "mcp-registry-stack: postgresql and mongodb are both enabled — disable one, or set mcp-registry.database.backend" -}}
{{- end -}}
{{- if and .Values.postgresql.enabled (has $backend (list "auto" "postgres")) (not $app.database.postgres.host) -}}
{{- $pg := .Values.postgresql -}}
{{- $r := $app.database.postgres -}}
{{- include "mcp-registry-stack.expect" (dict "what" "postgresql.auth.database and mcp-registry.database.postgres.database" "stack" $pg.auth.database "registry" $r.database) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "postgresql.auth.username and mcp-registry.database.postgres.user" "stack" $pg.auth.username "registry" $r.user) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "postgresql.auth.migrationUsername and mcp-registry.database.postgres.migrationUser" "stack" $pg.auth.migrationUsername "registry" $r.migrationUser) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "postgresql.service.port and mcp-registry.database.postgres.port" "stack" $pg.service.port "registry" $r.port) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "postgresql.auth.secretKeys.password and mcp-registry.secrets.postgresPassword.key" "stack" $pg.auth.secretKeys.password "registry" $app.secrets.postgresPassword.key) -}}
{{- if $r.migrationUser -}}
{{- include "mcp-registry-stack.expect" (dict "what" "postgresql.auth.secretKeys.migrationPassword and mcp-registry.secrets.postgresMigrationPassword.key" "stack" $pg.auth.secretKeys.migrationPassword "registry" $app.secrets.postgresMigrationPassword.key) -}}
{{- end -}}
{{- include "mcp-registry-stack.expect" (dict "what" "the Secrets of postgresql.auth.existingSecret and mcp-registry.secrets" "stack" (include "mcp-registry-common.tpl" (dict "value" $pg.auth.existingSecret "ctx" $)) "registry" (include "mcp-registry-common.tpl" (dict "value" ($app.secrets.postgresPassword.existingSecret | default $app.secrets.existingSecret) "ctx" $))) -}}
{{- end -}}
{{- if and .Values.mongodb.enabled (has $backend (list "auto" "mongodb")) (not $app.database.mongodb.host) -}}
{{- $m := .Values.mongodb -}}
{{- $r := $app.database.mongodb -}}
{{- include "mcp-registry-stack.expect" (dict "what" "mongodb.auth.database and mcp-registry.database.mongodb.database" "stack" $m.auth.database "registry" $r.database) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "mongodb.auth.username and mcp-registry.database.mongodb.user" "stack" $m.auth.username "registry" $r.user) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "mongodb.service.port and mcp-registry.database.mongodb.port" "stack" $m.service.port "registry" $r.port) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "mongodb.auth.secretKeys.password and mcp-registry.secrets.mongodbPassword.key" "stack" $m.auth.secretKeys.password "registry" $app.secrets.mongodbPassword.key) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "the Secrets of mongodb.auth.existingSecret and mcp-registry.secrets" "stack" (include "mcp-registry-common.tpl" (dict "value" $m.auth.existingSecret "ctx" $)) "registry" (include "mcp-registry-common.tpl" (dict "value" ($app.secrets.mongodbPassword.existingSecret | default $app.secrets.existingSecret) "ctx" $))) -}}
{{- end -}}
{{- if and .Values.redis.enabled (eq $app.redis.mode "auto") -}}
{{- include "mcp-registry-stack.expect" (dict "what" "redis.service.port and the registry's bundled Redis port" "stack" .Values.redis.service.port "registry" 6379) -}}
{{- include "mcp-registry-stack.expect" (dict "what" "redis.auth.secretKeys.password and mcp-registry.secrets.redisPassword.key" "stack" .Values.redis.auth.secretKeys.password "registry" $app.secrets.redisPassword.key) -}}
{{- end -}}
{{- if .Values.credentials.create -}}
{{- $name := include "mcp-registry-stack.credentialsSecret" . -}}
{{- range (include "mcp-registry-stack.credentialKeys" . | fromJsonArray) -}}
{{- if and (eq (index . 3) $name) (not (get $.Values.credentials.values (index . 0))) -}}
{{- fail (printf "mcp-registry-stack: credentials.create is true and %s needs credentials.values.%s" (index . 2) (index . 0)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
