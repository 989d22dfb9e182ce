{{/*
Names and labels. Every chart of the project calls these instead of defining its own, so a resource is
named and labelled the same way whichever chart renders it.

Selector labels (app.kubernetes.io/name, /instance and, for multi-workload charts, /component) are immutable
on Deployments and StatefulSets: changing what these helpers emit breaks `helm upgrade`. The chart-tests crate
keeps a golden of them.
*/}}

{{/* mcp-registry-common.name: the chart name, or .Values.nameOverride. */}}
{{- define "mcp-registry-common.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
mcp-registry-common.fullname: RELEASE-NAME (or RELEASE when it already contains NAME), or
.Values.fullnameOverride. Also used with a synthetic context (dict "Chart" (dict "Name" "postgresql")
"Release" .Release "Values" dict) to compute the name of a sibling chart's resources.
*/}}
{{- define "mcp-registry-common.fullname" -}}
{{- $values := .Values | default dict -}}
{{- if $values.fullnameOverride -}}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name $values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* mcp-registry-common.componentName: (dict "ctx" $ "component" "migrations") -> FULLNAME-COMPONENT. */}}
{{- define "mcp-registry-common.componentName" -}}
{{- printf "%s-%s" (include "mcp-registry-common.fullname" .ctx | trunc 52 | trimSuffix "-") .component -}}
{{- end -}}

{{/* mcp-registry-common.chart: NAME-VERSION for the helm.sh/chart label. */}}
{{- define "mcp-registry-common.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
mcp-registry-common.selectorLabels: (dict "ctx" $ ["component" "server"]). Never change: see above.
*/}}
{{- define "mcp-registry-common.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-registry-common.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* mcp-registry-common.labels: (dict "ctx" $ ["component" "server"]): selector labels plus the rest. */}}
{{- define "mcp-registry-common.labels" -}}
helm.sh/chart: {{ include "mcp-registry-common.chart" .ctx }}
{{ include "mcp-registry-common.selectorLabels" . }}
{{- with .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: mcp-registry
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* mcp-registry-common.serviceAccountName: (dict "ctx" $ "sa" .Values.serviceAccount ["component" "x"]). */}}
{{- define "mcp-registry-common.serviceAccountName" -}}
{{- if .sa.create -}}
{{- default (ternary (include "mcp-registry-common.componentName" .) (include "mcp-registry-common.fullname" .ctx) (not (empty .component))) .sa.name -}}
{{- else -}}
{{- default "default" .sa.name -}}
{{- end -}}
{{- end -}}

{{/*
mcp-registry-common.tpl: (dict "value" X "ctx" $). Renders X (string or structure) as a template when it
contains "{{", so values can say '{{ .Release.Name }}-credentials'. Returns a string (YAML for structures).
*/}}
{{- define "mcp-registry-common.tpl" -}}
{{- $v := .value -}}
{{- if typeIs "string" $v -}}
{{- if contains "{{" $v -}}{{- tpl $v .ctx -}}{{- else -}}{{- $v -}}{{- end -}}
{{- else if $v -}}
{{- $y := toYaml $v -}}
{{- if contains "{{" $y -}}{{- tpl $y .ctx -}}{{- else -}}{{- $y -}}{{- end -}}
{{- end -}}
{{- end -}}
