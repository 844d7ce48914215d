package azure

import (
	"fmt"
	"strings"
)

// Azurite's well-known development account, used by
// "UseDevelopmentStorage=true" connection strings.
const (
	devAccount  = "devstoreaccount1"
	devKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devEndpoint = "http://127.0.0.1:10000/devstoreaccount1"
)

// connString is what a storage connection string says about blobs.
type connString struct {
	account, key, sas, serviceURL string
}

// parseConnectionString reads "Key=Value;..." as the Azure tools write it:
// AccountName, AccountKey, SharedAccessSignature, BlobEndpoint,
// DefaultEndpointsProtocol, EndpointSuffix, UseDevelopmentStorage. Errors
// never quote the string (it holds a secret).
func parseConnectionString(s string) (connString, error) {
	kv := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return connString{}, fmt.Errorf("the connection string is malformed (want Key=Value pairs separated by ';')")
		}
		kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if strings.EqualFold(kv["usedevelopmentstorage"], "true") {
		cs := connString{account: devAccount, key: devKey, serviceURL: devEndpoint}
		if p := kv["developmentstorageproxyuri"]; p != "" {
			cs.serviceURL = strings.TrimRight(p, "/") + ":10000/" + devAccount
		}
		return cs, nil
	}
	cs := connString{account: kv["accountname"], key: kv["accountkey"], sas: kv["sharedaccesssignature"],
		serviceURL: kv["blobendpoint"]}
	if cs.serviceURL == "" && cs.account != "" {
		proto, suffix := kv["defaultendpointsprotocol"], kv["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = DefaultRealm
		}
		cs.serviceURL = proto + "://" + cs.account + ".blob." + suffix
	}
	if cs.serviceURL == "" {
		return connString{}, fmt.Errorf("the connection string names neither AccountName nor BlobEndpoint")
	}
	return cs, nil
}
