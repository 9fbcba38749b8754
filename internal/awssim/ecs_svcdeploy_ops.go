package awssim

import (
	"slices"
	"strings"
)

// The service deployment operations. Errors follow the API reference's
// list for each: an unknown deployment is ServiceDeploymentNotFoundException
// for Stop and Continue; a deployment that cannot be stopped any more is a
// ConflictException ("The request could not be processed because of
// conflict in the current state of the resource"), which StopServiceDeployment
// lists and ContinueServiceDeployment does not: Continue on a deployment
// not paused at that hook is an InvalidParameterException, the one of its
// listed errors that fits.

func (x *ECS) listServiceDeployments(body []byte) (any, error) {
	var in struct {
		Cluster    string   `json:"cluster"`
		Service    string   `json:"service"`
		Status     []string `json:"status"`
		NextToken  string   `json:"nextToken"`
		MaxResults int32    `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := x.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	svc := c.services[lastSegment(in.Service)]
	if in.Service == "" || svc == nil || (strings.HasPrefix(in.Service, "arn:") && in.Service != svc.ServiceArn) {
		return nil, clientError("ServiceNotFoundException", "Service not found.")
	}
	if in.MaxResults < 0 || in.MaxResults > 100 {
		return nil, clientError("InvalidParameterException", "maxResults must be between 1 and 100.")
	}
	type brief struct {
		ServiceDeploymentArn     string `json:"serviceDeploymentArn"`
		ServiceArn               string `json:"serviceArn"`
		ClusterArn               string `json:"clusterArn"`
		StartedAt                *epoch `json:"startedAt,omitempty"`
		CreatedAt                *epoch `json:"createdAt"`
		FinishedAt               *epoch `json:"finishedAt,omitempty"`
		TargetServiceRevisionArn string `json:"targetServiceRevisionArn"`
		Status                   string `json:"status"`
		StatusReason             string `json:"statusReason,omitempty"`
	}
	all := []brief{}
	for _, sd := range svc.sds { // newest first
		if len(in.Status) > 0 && !slices.Contains(in.Status, sd.status) {
			continue
		}
		all = append(all, brief{ServiceDeploymentArn: sd.arn, ServiceArn: svc.ServiceArn, ClusterArn: svc.ClusterArn,
			StartedAt: sd.started, CreatedAt: at(sd.created), FinishedAt: sd.finished,
			TargetServiceRevisionArn: sd.target.revision, Status: sd.status, StatusReason: sd.reason})
	}
	items, next, err := page(all, in.NextToken, in.MaxResults, 20)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"serviceDeployments": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// describeServiceDeployments advances the service of each unfinished
// deployment described one step (once per service), then describes them.
func (x *ECS) describeServiceDeployments(body []byte) (any, error) {
	var in struct {
		ServiceDeploymentArns []string `json:"serviceDeploymentArns"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > maxDescribeDeployment {
		return nil, clientError("InvalidParameterException", "serviceDeploymentArns should have at least 1 and at most %d items.", maxDescribeDeployment)
	}
	out := struct {
		ServiceDeployments []serviceDeploymentView `json:"serviceDeployments"`
		Failures           []failure               `json:"failures"`
	}{ServiceDeployments: []serviceDeploymentView{}, Failures: []failure{}}
	stepped := map[*service]bool{}
	var found []*svcDeployment
	for _, arn := range in.ServiceDeploymentArns {
		sd := x.findSvcDeployment(arn)
		if sd == nil {
			out.Failures = append(out.Failures, missing(arn))
			continue
		}
		if !sd.done() && !stepped[sd.svc] {
			x.stepService(sd.svc)
			stepped[sd.svc] = true
		}
		found = append(found, sd)
	}
	for _, sd := range found {
		out.ServiceDeployments = append(out.ServiceDeployments, x.viewSvcDeployment(sd))
	}
	return out, nil
}

func (x *ECS) stopServiceDeployment(body []byte) (any, error) {
	var in struct {
		ServiceDeploymentArn string `json:"serviceDeploymentArn"`
		StopType             string `json:"stopType"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	sd := x.findSvcDeployment(in.ServiceDeploymentArn)
	if sd == nil {
		return nil, clientError("ServiceDeploymentNotFoundException", "The service deployment %s does not exist.", in.ServiceDeploymentArn)
	}
	// The reference: "The valid values are ROLLBACK." (the enum also has ABORT).
	if in.StopType != "" && in.StopType != "ROLLBACK" {
		return nil, clientError("InvalidParameterException", "Invalid stopType %q: the valid value is ROLLBACK.", in.StopType)
	}
	if sd.status != sdPending && sd.status != sdInProgress {
		return nil, clientError("ConflictException", "The service deployment %s is %s and cannot be stopped.", sd.arn, sd.status)
	}
	x.requestRollback(sd, "Service deployment rolled back because StopServiceDeployment was called with stopType ROLLBACK.")
	return map[string]any{"serviceDeploymentArn": sd.arn}, nil
}

func (x *ECS) continueServiceDeployment(body []byte) (any, error) {
	var in struct {
		ServiceDeploymentArn string `json:"serviceDeploymentArn"`
		HookID               string `json:"hookId"`
		Action               string `json:"action"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	sd := x.findSvcDeployment(in.ServiceDeploymentArn)
	if sd == nil {
		return nil, clientError("ServiceDeploymentNotFoundException", "The service deployment %s does not exist.", in.ServiceDeploymentArn)
	}
	if in.Action != "" && in.Action != "CONTINUE" && in.Action != "ROLLBACK" {
		return nil, clientError("InvalidParameterException", "Invalid action %q: must be CONTINUE or ROLLBACK.", in.Action)
	}
	i := slices.IndexFunc(sd.hooks, func(h hookDetail) bool { return h.HookID == in.HookID })
	if sd.status != sdInProgress || i < 0 || sd.hooks[i].Status != "AWAITING_ACTION" {
		return nil, clientError("InvalidParameterException", "The service deployment %s has no lifecycle hook %q awaiting action.", sd.arn, in.HookID)
	}
	if in.Action == "ROLLBACK" {
		x.requestRollback(sd, "Service deployment rolled back because ContinueServiceDeployment was called with action ROLLBACK at the "+sd.stage+" lifecycle hook.")
		return map[string]any{"serviceDeploymentArn": sd.arn}, nil
	}
	sd.hooks[i].Status, sd.updated = "SUCCEEDED", x.now()
	return map[string]any{"serviceDeploymentArn": sd.arn}, nil
}
