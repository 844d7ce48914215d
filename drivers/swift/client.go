package swift

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/ncw/swift/v2"
)

// userAgent is sent with every request.
const userAgent = "regbackup"

// newConnection builds the ncw/swift connection for c. Fields c leaves
// empty are taken from the OpenStack environment (OS_AUTH_URL, OS_USERNAME,
// OS_PASSWORD, OS_PROJECT_NAME, OS_REGION_NAME, ..., ST_AUTH/ST_USER/ST_KEY),
// as the swift and openstack tools read them. The library retries nothing
// itself (Retries 1): requests are retried by Driver.retry, with backoff.
func newConnection(c Config) (*swift.Connection, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: 5 * time.Second,
	}
	if c.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	conn := &swift.Connection{
		AuthUrl:        c.AuthURL,
		UserName:       c.Username,
		UserId:         c.UserID,
		ApiKey:         c.Password,
		Tenant:         c.Tenant,
		TenantId:       c.TenantID,
		Domain:         c.Domain,
		DomainId:       c.DomainID,
		TenantDomain:   c.TenantDomain,
		TenantDomainId: c.TenantDomainID,
		TrustId:        c.TrustID,
		Region:         c.Region,
		AuthVersion:    c.AuthVersion,
		EndpointType:   swift.EndpointType(c.EndpointType),
		UserAgent:      userAgent,
		Transport:      tr,
		Retries:        1,
		// ConnectTimeout bounds the wait for a response's headers (the
		// proxy answers a PUT after the object servers stored it);
		// Timeout is the longest a body may stall.
		ConnectTimeout: 60 * time.Second,
		Timeout:        5 * time.Minute,
	}
	if err := conn.ApplyEnvironment(); err != nil {
		return nil, err
	}
	return conn, nil
}
