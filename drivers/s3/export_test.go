package s3

import (
	"net/http"
	"net/url"
)

// SetProxy sends c's requests through the HTTP proxy at u.
func SetProxy(c *Config, u *url.URL) { c.proxy = http.ProxyURL(u) }
