{{/*
Helpers of the mcp-registry chart. Names, labels, images, security contexts and secret-file volumes come from
the mcp-registry-common library; what is here is specific to the registry: which store it uses, its
credentials, and the config.yaml it reads (docs/configuration.md).
*/}}

{{- define "mcp-registry.fullname" -}}
{{- include "mcp-registry-common.fullname" . -}}
{{- end -}}

{{/* mcp-registry.secretsDir: where credential files are mounted. */}}
{{- define "mcp-registry.secretsDir" -}}/etc/mcp-registry/secrets{{- end -}}

{{/* mcp-registry.isBundled: (dict "ctx" $ "store" "postgresql") -> "true" when the umbrella bundles it. */}}
{{- define "mcp-registry.isBundled" -}}
{{- $b := get (.ctx.Values.bundled | default dict) .store | default dict -}}
{{- if $b.enabled }}true{{ end -}}
{{- end -}}

{{/* mcp-registry.storeName: (dict "ctx" $ "store" "postgresql") -> the bundled store's Service name. */}}
{{- define "mcp-registry.storeName" -}}
{{- include "mcp-registry-common.fullname" (dict "Chart" (dict "Name" .store) "Release" .ctx.Release "Values" dict) -}}
{{- end -}}

{{/* mcp-registry.backend: sqlite | postgres | mongodb, resolving `auto`. */}}
{{- define "mcp-registry.backend" -}}
{{- $b := .Values.database.backend -}}
{{- if ne $b "auto" -}}
{{- $b -}}
{{- else if include "mcp-registry.isBundled" (dict "ctx" . "store" "postgresql") -}}
postgres
{{- else if include "mcp-registry.isBundled" (dict "ctx" . "store" "mongodb") -}}
mongodb
{{- else -}}
sqlite
{{- end -}}
{{- end -}}

{{/* mcp-registry.storeIsBundled: "true" when the selected backend is a bundled store. */}}
{{- define "mcp-registry.storeIsBundled" -}}
{{- $backend := include "mcp-registry.backend" . -}}
{{- if eq $backend "postgres" }}{{ include "mcp-registry.isBundled" (dict "ctx" . "store" "postgresql") }}{{ end -}}
{{- if eq $backend "mongodb" }}{{ include "mcp-registry.isBundled" (dict "ctx" . "store" "mongodb") }}{{ end -}}
{{- end -}}

{{/* mcp-registry.migrationsMode: none | job | initContainer, resolving `auto`. */}}
{{- define "mcp-registry.migrationsMode" -}}
{{- $mode := .Values.migrations.mode -}}
{{- $backend := include "mcp-registry.backend" . -}}
{{- if eq $mode "auto" -}}
{{- if eq $backend "sqlite" }}none{{ else if include "mcp-registry.storeIsBundled" . }}initContainer{{ else }}job{{ end -}}
{{- else if and (eq $mode "job") (eq $backend "sqlite") -}}
{{- fail "migrations.mode=job needs the postgres or mongodb backend: a Job cannot reach the SQLite file of the server pod (use initContainer or none)" -}}
{{- else -}}
{{- $mode -}}
{{- end -}}
{{- end -}}

{{/* mcp-registry.postgresHost */}}
{{- define "mcp-registry.postgresHost" -}}
{{- $pg := .Values.database.postgres -}}
{{- if $pg.host -}}
{{- include "mcp-registry-common.tpl" (dict "value" $pg.host "ctx" .) -}}
{{- else if include "mcp-registry.isBundled" (dict "ctx" . "store" "postgresql") -}}
{{- include "mcp-registry.storeName" (dict "ctx" . "store" "postgresql") -}}
{{- else -}}
{{- fail "database.postgres.host is required for the postgres backend (or enable postgresql in the mcp-registry-stack chart)" -}}
{{- end -}}
{{- end -}}

{{/* mcp-registry.postgresUrl: (dict "ctx" $ "user" U) -> postgres://U@HOST:PORT/DB?sslmode=… (no password). */}}
{{- define "mcp-registry.postgresUrl" -}}
{{- $pg := .ctx.Values.database.postgres -}}
{{- $query := printf "sslmode=%s" $pg.sslmode -}}
{{- with $pg.extraParams }}{{ $query = printf "%s&%s" $query . }}{{ end -}}
{{- printf "postgres://%s@%s:%d/%s?%s" .user (include "mcp-registry.postgresHost" .ctx) (int $pg.port) $pg.database $query -}}
{{- end -}}

{{/* mcp-registry.mongodbUri -> mongodb://USER@HOST:PORT/DB[?options] (no password). */}}
{{- define "mcp-registry.mongodbUri" -}}
{{- $m := .Values.database.mongodb -}}
{{- $host := "" -}}
{{- if $m.host -}}
{{- $host = include "mcp-registry-common.tpl" (dict "value" $m.host "ctx" .) -}}
{{- else if include "mcp-registry.isBundled" (dict "ctx" . "store" "mongodb") -}}
{{- $host = include "mcp-registry.storeName" (dict "ctx" . "store" "mongodb") -}}
{{- else -}}
{{- fail "database.mongodb.host is required for the mongodb backend (or enable mongodb in the mcp-registry-stack chart)" -}}
{{- end -}}
{{- printf "mongodb://%s@%s:%d/%s" $m.user $host (int $m.port) $m.database -}}
{{- with $m.options }}?{{ . }}{{ end -}}
{{- end -}}

{{/* mcp-registry.redisMode: bundled | external | disabled, resolving `auto`. */}}
{{- define "mcp-registry.redisMode" -}}
{{- $mode := .Values.redis.mode -}}
{{- if eq $mode "auto" -}}
{{- if include "mcp-registry.isBundled" (dict "ctx" . "store" "redis") }}bundled{{ else }}disabled{{ end -}}
{{- else -}}
{{- $mode -}}
{{- end -}}
{{- end -}}

{{/* mcp-registry.redisUrl */}}
{{- define "mcp-registry.redisUrl" -}}
{{- $mode := include "mcp-registry.redisMode" . -}}
{{- if eq $mode "bundled" -}}
{{- printf "redis://%s:6379/0" (include "mcp-registry.storeName" (dict "ctx" . "store" "redis")) -}}
{{- else if eq $mode "external" -}}
{{- required "redis.url is required when redis.mode is external" (include "mcp-registry-common.tpl" (dict "value" .Values.redis.url "ctx" .)) -}}
{{- end -}}
{{- end -}}

{{/*
mcp-registry.credentials -> JSON list of the credentials this configuration needs:
  {name, file, server, migrations, test, secret, key, inline, value}
`secret`/`key` say where the file comes from (see the `secrets` values for the resolution order); `inline`
ones are rendered into the chart's own Secret (and, for the hook Job, into a hook copy).
*/}}
{{- define "mcp-registry.credentials" -}}
{{- $v := .Values -}}
{{- $backend := include "mcp-registry.backend" . -}}
{{- $needed := list -}}
{{- if eq $backend "postgres" -}}
{{- $needed = append $needed (dict "name" "postgresPassword" "file" "postgres-password" "server" true "migrations" true "what" "the postgres backend") -}}
{{- if $v.database.postgres.migrationUser -}}
{{- $needed = append $needed (dict "name" "postgresMigrationPassword" "file" "postgres-migration-password" "migrations" true "what" "database.postgres.migrationUser") -}}
{{- end -}}
{{- else if eq $backend "mongodb" -}}
{{- $needed = append $needed (dict "name" "mongodbPassword" "file" "mongodb-password" "server" true "migrations" true "what" "the mongodb backend") -}}
{{- end -}}
{{- if and (ne (include "mcp-registry.redisMode" .) "disabled") $v.redis.requirePassword -}}
{{- $needed = append $needed (dict "name" "redisPassword" "file" "redis-password" "server" true "what" "redis.requirePassword") -}}
{{- end -}}
{{- if $v.auth.admin.enabled -}}
{{- $needed = append $needed (dict "name" "adminToken" "file" "admin-token" "server" true "test" true "what" "auth.admin.enabled") -}}
{{- end -}}
{{- if $v.auth.tokensFile -}}
{{- $needed = append $needed (dict "name" "tokensFile" "file" "tokens.yaml" "server" true "what" "auth.tokensFile") -}}
{{- end -}}
{{- if eq (include "mcp-registry.exchangesEnabled" .) "true" -}}
{{- $needed = append $needed (dict "name" "jwtSigningKey" "file" "jwt-signing-key" "server" true "what" "an enabled auth exchange") -}}
{{- end -}}
{{- $out := list -}}
{{- range $needed -}}
{{- $c := get $v.secrets .name -}}
{{- $r := merge (dict "key" $c.key "inline" false "value" "") . -}}
{{- if $c.existingSecret -}}
{{- $_ := set $r "secret" (include "mcp-registry-common.tpl" (dict "value" $c.existingSecret "ctx" $)) -}}
{{- else if $c.value -}}
{{- $_ := set $r "secret" (include "mcp-registry.fullname" $) -}}
{{- $_ := set $r "inline" true -}}
{{- $_ := set $r "value" $c.value -}}
{{- else if $v.secrets.existingSecret -}}
{{- $_ := set $r "secret" (include "mcp-registry-common.tpl" (dict "value" $v.secrets.existingSecret "ctx" $)) -}}
{{- else -}}
{{- fail (printf "secrets.%s: %s needs this credential — set secrets.existingSecret or secrets.%s.existingSecret (an existing Secret with the key %q), or secrets.%s.value (inline, development only)" .name .what .name $c.key .name) -}}
{{- end -}}
{{- $out = append $out $r -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
mcp-registry.secretFiles: (dict "ctx" $ "for" "server"|"migrations"|"test" ["inlineSecret" NAME]) -> the
files list for mcp-registry-common.secretFilesVolume. `inlineSecret` replaces the chart's Secret (the hook
Job reads a hook copy, as the release's Secret does not exist yet at pre-install).
*/}}
{{- define "mcp-registry.secretFiles" -}}
{{- $files := list -}}
{{- range (include "mcp-registry.credentials" .ctx | fromJsonArray) -}}
{{- if get . $.for -}}
{{- $secret := ternary ($.inlineSecret | default .secret) .secret .inline -}}
{{- $files = append $files (dict "secret" $secret "key" .key "path" .file) -}}
{{- end -}}
{{- end -}}
{{- if eq .for "server" -}}
{{- range (include "mcp-registry.syncSources" .ctx | fromJsonArray) -}}
{{- with .token }}{{ $files = append $files . }}{{ end -}}
{{- end -}}
{{- end -}}
{{- toJson $files -}}
{{- end -}}

{{/* mcp-registry.inlineSecretData: (dict "ctx" $ "for" "" | "migrations") -> Secret `stringData` entries. */}}
{{- define "mcp-registry.inlineSecretData" -}}
{{- range (include "mcp-registry.credentials" .ctx | fromJsonArray) -}}
{{- if and .inline (or (not $.for) (get . $.for)) }}
{{ .key }}: {{ .value | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
mcp-registry.config: (dict "ctx" $ "migrations" bool) -> config.yaml. The server's file has everything but the
migration credentials; the migrations' file only `storage` (with `migration_url`) and `log`, so `migrate`
never needs the tokens or the Redis password.
*/}}
{{- define "mcp-registry.config" -}}
{{- $ctx := .ctx -}}
{{- $v := $ctx.Values -}}
{{- $dir := include "mcp-registry.secretsDir" $ctx -}}
{{- $backend := include "mcp-registry.backend" $ctx -}}
{{- $mode := include "mcp-registry.migrationsMode" $ctx -}}
{{- $storage := dict "backend" $backend -}}
{{- if eq $backend "sqlite" -}}
{{- $_ := set $storage "sqlite" (dict "path" $v.database.sqlite.path) -}}
{{- else if eq $backend "postgres" -}}
{{- $pg := $v.database.postgres -}}
{{- $p := dict "url" (include "mcp-registry.postgresUrl" (dict "ctx" $ctx "user" $pg.user)) "password_file" (printf "%s/postgres-password" $dir) "max_connections" (int $pg.maxConnections) -}}
{{- if and .migrations $pg.migrationUser -}}
{{- $_ := set $p "migration_url" (include "mcp-registry.postgresUrl" (dict "ctx" $ctx "user" $pg.migrationUser)) -}}
{{- $_ := set $p "migration_password_file" (printf "%s/postgres-migration-password" $dir) -}}
{{- end -}}
{{- $_ := set $storage "postgres" $p -}}
{{- else if eq $backend "mongodb" -}}
{{- $_ := set $storage "mongodb" (dict "uri" (include "mcp-registry.mongodbUri" $ctx) "password_file" (printf "%s/mongodb-password" $dir) "database" $v.database.mongodb.database) -}}
{{- end -}}
{{- if .migrations -}}
{{- toYaml (dict "storage" $storage "log" $v.config.log) -}}
{{- else -}}
{{- $_ := set $storage "migrate_on_start" (eq $mode "none") -}}
{{- $_ := set $storage "connect_timeout" $v.database.connectTimeout -}}
{{- $_ := set $storage "unready_after" $v.database.unreadyAfter -}}
{{- $cfg := deepCopy $v.config -}}
{{- $_ := set $cfg.server "listen" "0.0.0.0:8080" -}}
{{- $_ := set $cfg.server "shutdown_drain" (printf "%ds" (int $v.shutdown.drainSeconds)) -}}
{{- $_ := set $cfg.server "shutdown_grace" (printf "%ds" (int $v.shutdown.graceSeconds)) -}}
{{- $_ := set $cfg "storage" $storage -}}
{{- if ne (include "mcp-registry.redisMode" $ctx) "disabled" -}}
{{- $_ := set $cfg.cache "redis_url" (include "mcp-registry.redisUrl" $ctx) -}}
{{- if $v.redis.requirePassword }}{{ $_ := set $cfg.cache "redis_password_file" (printf "%s/redis-password" $dir) }}{{ end -}}
{{- end -}}
{{- $tokens := list -}}
{{- if $v.auth.admin.enabled -}}
{{- $tokens = append $tokens (dict "name" "admin" "token_file" (printf "%s/admin-token" $dir) "admin" true "namespaces" $v.auth.admin.namespaces) -}}
{{- end -}}
{{- range $v.auth.tokens }}{{ $tokens = append $tokens . }}{{ end -}}
{{- $auth := dict "dev_mode" $v.auth.devMode "tokens" $tokens "read" $v.auth.read -}}
{{- if $v.auth.tokensFile }}{{ $_ := set $auth "tokens_file" (printf "%s/tokens.yaml" $dir) }}{{ end -}}
{{- $jwt := dict "ttl" $v.auth.jwt.ttl "issuer" $v.auth.jwt.issuer -}}
{{- if eq (include "mcp-registry.exchangesEnabled" $ctx) "true" }}{{ $_ := set $jwt "signing_key_file" (printf "%s/jwt-signing-key" $dir) }}{{ end -}}
{{- $_ := set $auth "jwt" $jwt -}}
{{- $_ := set $auth "exchanges" (include "mcp-registry.exchanges" $ctx | fromJson) -}}
{{- $_ := set $cfg "auth" $auth -}}
{{- $sources := include "mcp-registry.syncSources" $ctx | fromJsonArray -}}
{{- if $sources -}}
{{- $entries := list -}}
{{- range $sources }}{{ $entries = append $entries .config }}{{ end -}}
{{- $_ := set $cfg "sync" (dict "lease_ttl" $v.sync.leaseTtl "sources" $entries) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
{{- end -}}

{{/* mcp-registry.terminationGracePeriodSeconds: drain + grace + preStop sleep + margin. */}}
{{- define "mcp-registry.terminationGracePeriodSeconds" -}}
{{- $sleep := 0 -}}
{{- with .Values.lifecycle }}{{ with .preStop }}{{ with .sleep }}{{ $sleep = int .seconds }}{{ end }}{{ end }}{{ end -}}
{{- add (int .Values.shutdown.drainSeconds) (int .Values.shutdown.graceSeconds) $sleep (int .Values.shutdown.extraSeconds) -}}
{{- end -}}

{{/* mcp-registry.migrationContainer: the `migrate up` container, for the hook Job and the init container. */}}
{{- define "mcp-registry.migrationContainer" -}}
- name: migrate
  image: {{ include "mcp-registry-common.image" (dict "image" .Values.image "ctx" .) | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    - migrate
    - up
    - --config
    - /etc/mcp-registry/migrations/config.yaml
  securityContext:
    {{- include "mcp-registry-common.containerSecurityContext" (dict "override" .Values.containerSecurityContext) | nindent 4 }}
  resources:
    {{- toYaml .Values.migrations.resources | nindent 4 }}
  volumeMounts:
    - name: migrations-config
      mountPath: /etc/mcp-registry/migrations
      readOnly: true
    {{- if include "mcp-registry.secretFiles" (dict "ctx" . "for" "migrations") | fromJsonArray }}
    - name: migrations-secrets
      mountPath: {{ include "mcp-registry.secretsDir" . }}
      readOnly: true
    {{- end }}
    - name: tmp
      mountPath: /tmp
    {{- if eq (include "mcp-registry.backend" .) "sqlite" }}
    - name: data
      mountPath: {{ dir .Values.database.sqlite.path }}
    {{- end }}
{{- end -}}

{{/* mcp-registry.validate: cross-key checks the schema cannot express. Renders nothing. */}}
{{- define "mcp-registry.validate" -}}
{{- $backend := include "mcp-registry.backend" . -}}
{{- if and (eq $backend "sqlite") (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
{{- fail "the SQLite backend supports exactly one replica: set replicaCount=1 and autoscaling.enabled=false, or use postgres/mongodb" -}}
{{- end -}}
{{- if and (eq $backend "sqlite") .Values.database.sqlite.persistence.enabled (eq .Values.strategy.type "RollingUpdate") -}}
{{- fail "a SQLite PVC (ReadWriteOnce) cannot be mounted by the old and the new pod at once: set strategy.type=Recreate" -}}
{{- end -}}
{{- if and (or .Values.metrics.serviceMonitor.enabled .Values.metrics.prometheusRule.enabled) (not .Values.config.metrics.enabled) -}}
{{- fail "metrics.serviceMonitor/prometheusRule need config.metrics.enabled=true" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) -}}
{{- fail "podDisruptionBudget: set either minAvailable or maxUnavailable (null the other)" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (kindIs "invalid" .Values.podDisruptionBudget.minAvailable) (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable) -}}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (eq (int .Values.autoscaling.targetCPUUtilizationPercentage) 0) (eq (int .Values.autoscaling.targetMemoryUtilizationPercentage) 0) -}}
{{- fail "autoscaling: set targetCPUUtilizationPercentage and/or targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- $names := list -}}
{{- range $i, $s := .Values.sync.sources -}}
{{- if has $s.name $names }}{{ fail (printf "sync.sources[%d].name: %q is used by two sources" $i $s.name) }}{{ end -}}
{{- $names = append $names $s.name -}}
{{- if and $s.file (not (hasKey $.Values.sync.files $s.file)) -}}
{{- fail (printf "sync.sources[%d].file: %q is not a key of sync.files" $i $s.file) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
mcp-registry.storeEgress: (dict "ctx" $ "redis" bool) -> egress rules: DNS, the database (and Redis) — the
bundled store's pods by label, an external one by `networkPolicy.egress.externalStoresTo` (or any
destination) on its port — then `networkPolicy.egress.extraRules`.
*/}}
{{- define "mcp-registry.storeEgress" -}}
{{- $ctx := .ctx -}}
{{- $v := $ctx.Values -}}
{{- $np := $v.networkPolicy.egress -}}
{{- $backend := include "mcp-registry.backend" $ctx -}}
{{- $rules := list -}}
{{- if eq $backend "postgres" -}}
{{- $rules = append $rules (dict "store" "postgresql" "port" 5432 "externalPort" $v.database.postgres.port) -}}
{{- else if eq $backend "mongodb" -}}
{{- $rules = append $rules (dict "store" "mongodb" "port" 27017 "externalPort" $v.database.mongodb.port) -}}
{{- end -}}
{{- $redisMode := include "mcp-registry.redisMode" $ctx -}}
{{- if and .redis (ne $redisMode "disabled") -}}
{{- $port := 6379 -}}
{{- if eq $redisMode "external" -}}
{{- $hostport := (urlParse (include "mcp-registry.redisUrl" $ctx)).host -}}
{{- if contains ":" $hostport }}{{ $port = last (splitList ":" $hostport) | int }}{{ end -}}
{{- end -}}
{{- $rules = append $rules (dict "store" "redis" "port" 6379 "externalPort" $port "bundled" (eq $redisMode "bundled")) -}}
{{- end -}}
{{- include "mcp-registry-common.networkPolicy.dnsEgress" (dict "to" $np.dnsTo) }}
{{- range $rules }}
{{- $bundled := ternary .bundled (include "mcp-registry.isBundled" (dict "ctx" $ctx "store" .store)) (hasKey . "bundled") }}
{{- if $bundled }}
- to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: {{ .store }}
          app.kubernetes.io/instance: {{ $ctx.Release.Name }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- else }}
- ports:
    - port: {{ .externalPort }}
      protocol: TCP
  {{- with $np.externalStoresTo }}
  to:
    {{- include "mcp-registry-common.tpl" (dict "value" . "ctx" $ctx) | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- with $np.extraRules }}
{{ include "mcp-registry-common.tpl" (dict "value" . "ctx" $ctx) }}
{{- end }}
{{- end -}}

{{/* mcp-registry.migrationsServiceAccountName: its own hook ServiceAccount (never the release's: hooks and
release resources must not share a name), or the existing one named by serviceAccount.name. */}}
{{- define "mcp-registry.migrationsServiceAccountName" -}}
{{- $sa := .Values.serviceAccount -}}
{{- if not $sa.create -}}
{{- default "default" $sa.name -}}
{{- else if $sa.name -}}
{{- printf "%s-migrations" $sa.name -}}
{{- else -}}
{{- include "mcp-registry-common.componentName" (dict "ctx" . "component" "migrations") -}}
{{- end -}}
{{- end -}}

{{/* mcp-registry.exchangesEnabled: "true" when any token exchange is on (then registry tokens need a key). */}}
{{- define "mcp-registry.exchangesEnabled" -}}
{{- $e := .Values.auth.exchanges -}}
{{- if or $e.none.enabled $e.dns.enabled $e.http.enabled $e.githubAt.enabled $e.githubOidc.enabled $e.kubernetes.enabled $e.oidcIssuers .Values.auth.devMode -}}true{{- else -}}false{{- end -}}
{{- end -}}

{{/* mcp-registry.exchanges -> JSON of config.yaml's `auth.exchanges` from `auth.exchanges` values. */}}
{{- define "mcp-registry.exchanges" -}}
{{- $e := .Values.auth.exchanges -}}
{{- $out := dict "none" (dict "enabled" $e.none.enabled "namespace" $e.none.namespace) -}}
{{- $_ := set $out "dns" (dict "enabled" $e.dns.enabled "resolver" $e.dns.resolver) -}}
{{- $http := dict "enabled" $e.http.enabled "allow_private_addresses" $e.http.allowPrivateAddresses -}}
{{- if $e.http.caConfigMap }}{{ $_ := set $http "ca_file" (printf "/etc/mcp-registry/http-ca/%s" $e.http.caKey) }}{{ end -}}
{{- $_ := set $out "http" $http -}}
{{- $_ := set $out "github_at" (dict "enabled" $e.githubAt.enabled "api_url" $e.githubAt.apiUrl "client_id" $e.githubAt.clientId) -}}
{{- $_ := set $out "github_oidc" (dict "enabled" $e.githubOidc.enabled "audience" $e.githubOidc.audience) -}}
{{- $issuers := list -}}
{{- if $e.kubernetes.enabled -}}
{{- $k := dict "name" "kubernetes" "preset" "kubernetes" "audience" $e.kubernetes.audience "publish" $e.kubernetes.publish "required_claims" $e.kubernetes.requiredClaims "admin_when" $e.kubernetes.adminWhen -}}
{{- $issuers = append $issuers $k -}}
{{- end -}}
{{- range $e.oidcIssuers }}{{ $issuers = append $issuers . }}{{ end -}}
{{- $_ := set $out "oidc" (dict "issuers" $issuers) -}}
{{- toJson $out -}}
{{- end -}}

{{/* mcp-registry.authEgress -> an egress rule for the exchanges that fetch over HTTPS (JWKS, GitHub, well-known
URLs; the API server for the kubernetes preset), to `networkPolicy.egress.authTo` or anywhere. Empty when none. */}}
{{- define "mcp-registry.authEgress" -}}
{{- $e := .Values.auth.exchanges -}}
{{- if or $e.http.enabled $e.githubAt.enabled $e.githubOidc.enabled $e.kubernetes.enabled $e.oidcIssuers }}
- ports:
    - port: 443
      protocol: TCP
    {{- if $e.kubernetes.enabled }}
    # The API server's own port behind the kubernetes Service (kubeadm and most distributions).
    - port: 6443
      protocol: TCP
    {{- end }}
  {{- with .Values.networkPolicy.egress.authTo }}
  to:
    {{- include "mcp-registry-common.tpl" (dict "value" . "ctx" $) | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}


{{/*
mcp-registry.syncSources -> JSON list, one per `sync.sources` entry: {config, token, ca}. `config` is the
server's `sync.sources` entry (the chart's `tokenSecret`, `caConfigMap` and `file` replaced by `token_file`,
`ca_file` and `path`); `token` the file of `tokenSecret` in the server's secrets volume (secretFiles); `ca` the
item of `caConfigMap` in the sync-ca volume.
*/}}
{{- define "mcp-registry.syncSources" -}}
{{- $out := list -}}
{{- range .Values.sync.sources -}}
{{- $c := omit . "tokenSecret" "caConfigMap" "file" -}}
{{- $r := dict -}}
{{- with .tokenSecret -}}
{{- $t := dict "secret" (include "mcp-registry-common.tpl" (dict "value" .name "ctx" $)) "key" (.key | default "token") "path" (printf "sync-%s-token" $c.name) -}}
{{- $_ := set $c "token_file" (printf "%s/%s" (include "mcp-registry.secretsDir" $) $t.path) -}}
{{- $_ := set $r "token" $t -}}
{{- end -}}
{{- with .caConfigMap -}}
{{- $ca := dict "configMap" (include "mcp-registry-common.tpl" (dict "value" .name "ctx" $)) "key" (.key | default "ca.crt") "path" (printf "%s.crt" $c.name) -}}
{{- $_ := set $c "ca_file" (printf "/etc/mcp-registry/sync-ca/%s" $ca.path) -}}
{{- $_ := set $r "ca" $ca -}}
{{- end -}}
{{- with .file }}{{ $_ := set $c "path" (printf "/etc/mcp-registry/sync/%s" .) }}{{ end -}}
{{- $_ := set $r "config" $c -}}
{{- $out = append $out $r -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* mcp-registry.syncCaVolume -> the `sync-ca` volume (the sources' `caConfigMap` bundles), or nothing. */}}
{{- define "mcp-registry.syncCaVolume" -}}
{{- $cas := list -}}
{{- range (include "mcp-registry.syncSources" . | fromJsonArray) }}{{ with .ca }}{{ $cas = append $cas . }}{{ end }}{{ end -}}
{{- if $cas }}
- name: sync-ca
  projected:
    sources:
    {{- range $cas }}
      - configMap:
          name: {{ .configMap }}
          items:
            - key: {{ .key }}
              path: {{ .path }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/* mcp-registry.syncEgress -> an egress rule for the `registry` and `git` sources, to
`networkPolicy.egress.syncTo` (or anywhere) on `syncPorts`. Empty without such a source. */}}
{{- define "mcp-registry.syncEgress" -}}
{{- $remote := false -}}
{{- range .Values.sync.sources }}{{ if has .type (list "registry" "git") }}{{ $remote = true }}{{ end }}{{ end -}}
{{- if $remote }}
- ports:
    {{- range .Values.networkPolicy.egress.syncPorts }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .Values.networkPolicy.egress.syncTo }}
  to:
    {{- include "mcp-registry-common.tpl" (dict "value" . "ctx" $) | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}
