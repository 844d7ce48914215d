package swift

import "time"

// SetBackoff makes c's retries wait d between attempts.
func SetBackoff(c *Config, d time.Duration) { c.backoff = d }
