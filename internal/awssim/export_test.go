package awssim

// SigV4AKey exposes the SigV4A key derivation to the external tests.
var SigV4AKey = sigV4AKey

// SetListDeploymentsPage makes ListDeployments return at most n IDs a
// page, so a test can page through a few deployments.
func (cd *CodeDeploy) SetListDeploymentsPage(n int) {
	cd.ecs.mu.Lock()
	defer cd.ecs.mu.Unlock()
	cd.listPage = n
}
