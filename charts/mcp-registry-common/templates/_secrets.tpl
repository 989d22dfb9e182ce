{{/*
Secret files. Credentials never go into ConfigMaps or env values: they are keys of Secrets, projected as
files into one read-only directory, and the config refers to the files (`*_file` keys).
*/}}

{{/*
mcp-registry-common.secretFilesVolume: (dict "name" "secrets" "files" (list (dict "secret" S "key" K "path" P) …))
Renders one volume list item: a projected volume with one `secret` source per Secret (in first-use order).
Mode 0440 (288): readable by the pod's fsGroup, so any non-root uid works. Renders nothing for no files.
*/}}
{{- define "mcp-registry-common.secretFilesVolume" -}}
{{- $order := list -}}
{{- $groups := dict -}}
{{- range .files -}}
{{- if not (hasKey $groups .secret) }}{{ $order = append $order .secret }}{{ $_ := set $groups .secret list }}{{ end -}}
{{- $_ := set $groups .secret (append (get $groups .secret) (dict "key" .key "path" .path)) -}}
{{- end -}}
{{- if $order }}
- name: {{ .name }}
  projected:
    defaultMode: 288
    sources:
    {{- range $order }}
      - secret:
          name: {{ . }}
          items:
          {{- range get $groups . }}
            - key: {{ .key }}
              path: {{ .path }}
          {{- end }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/*
mcp-registry-common.checksum: (dict "value" X) -> sha256 of X rendered as JSON (stable: map keys sorted).
Used for the checksum/* pod annotations that roll pods when their config changes.
*/}}
{{- define "mcp-registry-common.checksum" -}}
{{- toJson .value | sha256sum -}}
{{- end -}}

{{/*
mcp-registry-common.requireCredential:
  (dict "chart" "postgresql" "secret" S "value" V "secretKey" "auth.existingSecret" "valueKey" "auth.password")
Fails the render with a precise message when a credential has neither an existing Secret nor an inline value.
Charts never generate passwords: renders must be deterministic (Argo CD runs `helm template`).
*/}}
{{- define "mcp-registry-common.requireCredential" -}}
{{- if and (not .secret) (not .value) -}}
{{- fail (printf "%s: no credential — set %s (an existing Secret, recommended) or %s (inline, development only)" .chart .secretKey .valueKey) -}}
{{- end -}}
{{- end -}}
