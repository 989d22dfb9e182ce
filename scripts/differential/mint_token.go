// mint_token prints a Registry JWT as the official registry signs them (Ed25519, alg EdDSA), for the
// differential test: the registry under test is started with the same key (MCP_REGISTRY_JWT_PRIVATE_KEY),
// so it accepts the token, and ours is configured with the token's SHA-256. Standard library only.
//
//	go run mint_token.go HEX_SEED PATTERN [PATTERN...]   # publish and edit on each pattern ("*" = admin)
package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: mint_token HEX_SEED PATTERN [PATTERN...]")
		os.Exit(2)
	}
	seed, err := hex.DecodeString(os.Args[1])
	if err != nil || len(seed) != ed25519.SeedSize {
		fmt.Fprintln(os.Stderr, "HEX_SEED must be 32 bytes in hex")
		os.Exit(2)
	}
	key := ed25519.NewKeyFromSeed(seed)
	perms := []map[string]string{}
	for _, p := range os.Args[2:] {
		perms = append(perms, map[string]string{"action": "publish", "resource": p})
		perms = append(perms, map[string]string{"action": "edit", "resource": p})
	}
	now := time.Now().Unix()
	claims := map[string]any{
		"iss": "mcp-registry", "iat": now, "nbf": now, "exp": now + 4*3600,
		"auth_method": "none", "auth_method_sub": "differential", "permissions": perms,
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "EdDSA", "typ": "JWT"}) + "." + enc(claims)
	sig := ed25519.Sign(key, []byte(signing))
	fmt.Println(signing + "." + base64.RawURLEncoding.EncodeToString(sig))
}
