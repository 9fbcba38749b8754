package awssim

import (
	"slices"
	"strconv"
	"strings"
)

// listDeploymentsPage is how many deployment IDs one ListDeployments
// response holds at most; the API has no maxResults, and AWS does not
// document its page size.
const listDeploymentsPage = 100

// deploymentStatuses are DeploymentStatus's values: what
// includeOnlyStatuses accepts.
var deploymentStatuses = []string{cdCreated, "Queued", cdInProgress, "Baking", cdSucceeded, cdFailed, cdStopped, cdReady}

// listDeployments lists the IDs of a deployment group's deployments (of
// every group without a name), newest first, filtered by status,
// listDeploymentsPage at a time. AWS does not say in which order it lists
// them: a client must not count on it. Errors follow ListDeployments's
// list in the API reference: an application named without its group, or a
// group without its application, is refused.
func (cd *CodeDeploy) listDeployments(body []byte) (any, error) {
	var in struct {
		ApplicationName     string   `json:"applicationName"`
		DeploymentGroupName string   `json:"deploymentGroupName"`
		IncludeOnlyStatuses []string `json:"includeOnlyStatuses"`
		NextToken           string   `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var g *cdGroup
	if in.ApplicationName != "" || in.DeploymentGroupName != "" {
		var err error
		if g, err = cd.lookupGroup(in.ApplicationName, in.DeploymentGroupName); err != nil {
			return nil, err
		}
	}
	for _, s := range in.IncludeOnlyStatuses {
		if !slices.Contains(deploymentStatuses, s) {
			return nil, clientError("InvalidDeploymentStatusException", "The deployment status %q is invalid.", s)
		}
	}
	var ids []string
	for _, d := range slices.Backward(cd.order) {
		if (g == nil || d.group == g) && (len(in.IncludeOnlyStatuses) == 0 || slices.Contains(in.IncludeOnlyStatuses, d.status)) {
			ids = append(ids, d.id)
		}
	}
	off, err := listOffset(in.NextToken, len(ids))
	if err != nil {
		return nil, err
	}
	end := min(off+cd.listPage, len(ids))
	out := map[string]any{"deployments": append([]string{}, ids[off:end]...)}
	if end < len(ids) {
		out["nextToken"] = pageToken(end)
	}
	return out, nil
}

// listOffset reads a nextToken ListDeployments returned.
func listOffset(token string, n int) (int, error) {
	if token == "" {
		return 0, nil
	}
	off, err := strconv.Atoi(strings.TrimPrefix(token, "esteira-"))
	if err != nil || !strings.HasPrefix(token, "esteira-") || off < 0 || off > n {
		return 0, clientError("InvalidNextTokenException", "The next token %q is invalid.", token)
	}
	return off, nil
}
