package awssim

import "slices"

// The deployment target and control operations. Errors follow each
// operation's list in the CodeDeploy API reference.

// targetID is an ECS deployment target's ID, "<cluster>:<service>".
func (g *cdGroup) targetID() string { return g.spec.Cluster + ":" + g.spec.Service }

func (cd *CodeDeploy) listDeploymentTargets(body []byte) (any, error) {
	var in struct {
		DeploymentID string `json:"deploymentId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	d, err := cd.lookupDeployment(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	return map[string][]string{"targetIds": {d.group.targetID()}}, nil
}

type ecsTaskSet struct {
	Identifer     string        `json:"identifer"` // sic: the API's spelling
	DesiredCount  int           `json:"desiredCount"`
	PendingCount  int           `json:"pendingCount"`
	RunningCount  int           `json:"runningCount"`
	Status        string        `json:"status"`
	TrafficWeight float64       `json:"trafficWeight"`
	TargetGroup   cdTargetGroup `json:"targetGroup"`
	TaskSetLabel  string        `json:"taskSetLabel"`
}

func (cd *CodeDeploy) getDeploymentTarget(body []byte) (any, error) {
	var in struct {
		DeploymentID string `json:"deploymentId"`
		TargetID     string `json:"targetId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	d, err := cd.lookupDeployment(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	switch {
	case in.TargetID == "":
		return nil, clientError("DeploymentTargetIdRequiredException", "A deployment target ID must be specified.")
	case in.TargetID != d.group.targetID():
		return nil, clientError("DeploymentTargetDoesNotExistException", "Deployment target %s does not exist in deployment %s", in.TargetID, d.id)
	}
	g := d.group
	sets := []ecsTaskSet{cd.taskSet(d, d.blue, "Blue", g.spec.TargetGroups[d.blueTG], 100-d.greenProd)}
	if d.green != nil {
		sets = append(sets, cd.taskSet(d, d.green, "Green", g.spec.TargetGroups[1-d.blueTG], d.greenProd))
	}
	target := map[string]any{
		"deploymentId": d.id, "targetId": g.targetID(), "targetArn": g.svc.ServiceArn,
		"lastUpdatedAt": at(cd.ecs.last), "status": d.targetStatus(),
		"lifecycleEvents": slices.Clone(d.events), "taskSetsInfo": sets,
	}
	return map[string]any{"deploymentTarget": map[string]any{"deploymentTargetType": "ECSTarget", "ecsTarget": target}}, nil
}

func (cd *CodeDeploy) taskSet(d *cdDeployment, dep *deployment, label, tg string, weight float64) ecsTaskSet {
	ts := ecsTaskSet{Identifer: dep.ID, DesiredCount: int(dep.DesiredCount), Status: "ACTIVE",
		TrafficWeight: weight, TargetGroup: cdTargetGroup{Name: tg}, TaskSetLabel: label}
	if weight == 100 {
		ts.Status = "PRIMARY"
	}
	for _, t := range cd.ecs.depTasks(d.group.svc, dep) {
		switch t.LastStatus {
		case "RUNNING":
			ts.RunningCount++
		case "PROVISIONING", "PENDING":
			ts.PendingCount++
		}
	}
	return ts
}

// continueDeployment lets a deployment waiting in Ready go on to shift
// production traffic. Only READY_WAIT is simulated: the original task set
// is stopped as soon as the deployment succeeds (no termination wait).
func (cd *CodeDeploy) continueDeployment(body []byte) (any, error) {
	var in struct {
		DeploymentID       string `json:"deploymentId"`
		DeploymentWaitType string `json:"deploymentWaitType"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	d, err := cd.lookupDeployment(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	switch in.DeploymentWaitType {
	case "", "READY_WAIT":
	case "TERMINATION_WAIT":
		return nil, clientError("DeploymentIsNotInReadyStateException", "Deployment %s is not waiting for the original task set's termination.", d.id)
	default:
		return nil, clientError("InvalidDeploymentWaitTypeException", "The wait type %q is invalid.", in.DeploymentWaitType)
	}
	if d.done() {
		return nil, clientError("DeploymentAlreadyCompletedException", "The deployment %s is already completed.", d.id)
	}
	if d.status != cdReady {
		return nil, clientError("DeploymentIsNotInReadyStateException", "The deployment %s is not in Ready state, it is %s.", d.id, d.status)
	}
	d.status = cdInProgress
	return struct{}{}, nil
}

// stopDeployment stops a deployment in progress: Stopped with
// MANUAL_STOP, and with autoRollbackEnabled a rollback deployment moves
// traffic back to the original task set. Without it, traffic and tasks
// stay where they are.
func (cd *CodeDeploy) stopDeployment(body []byte) (any, error) {
	var in struct {
		DeploymentID        string `json:"deploymentId"`
		AutoRollbackEnabled *bool  `json:"autoRollbackEnabled"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	d, err := cd.lookupDeployment(in.DeploymentID)
	if err != nil {
		return nil, err
	}
	if d.done() {
		return nil, clientError("DeploymentAlreadyCompletedException", "The deployment %s is already completed.", d.id)
	}
	cd.end(d, cdStopped, "MANUAL_STOP", "The deployment was stopped by a StopDeployment request.")
	if in.AutoRollbackEnabled != nil && *in.AutoRollbackEnabled {
		cd.rollBack(d, "Deployment stopped by request with auto rollback.")
	}
	return map[string]string{"status": "Pending", "statusMessage": "Stopping Active deployment"}, nil
}
