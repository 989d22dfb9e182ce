// CoreDNS for the local cluster, linked with an explicit plugin list instead of CoreDNS's full default set.
// The point is what is missing: no `forward` (or any other plugin that talks to upstream resolvers), so the
// cluster's DNS can never send a query off this host. Names outside cluster.local get NXDOMAIN from the
// `template` plugin (see the Corefile in e2e/local-cluster/manifests/coredns.yaml).
//
// Built by e2e/local-cluster/lib/build.sh against github.com/coredns/coredns@$COREDNS_VERSION
// (scripts/versions.env).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

// directives is the plugin execution order; it must follow CoreDNS's plugin.cfg order for these plugins.
var directives = []string{
	"reload",
	"ready",
	"health",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"template",
	"kubernetes",
}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
