package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// RDS simulates the part of Amazon RDS a release uses around a migration:
// the DB instances and Aurora clusters it finds (DescribeDBInstances,
// DescribeDBClusters) and the manual snapshots it takes, waits for, lists
// and prunes (Create/Describe/DeleteDBSnapshot and their DBCluster
// counterparts). It speaks the Query protocol (API version 2014-10-31) with
// the RDS error codes. A snapshot is "creating" until it has been described
// Steps times (see SnapshotBehavior), then "available", or "failed".
type RDS struct {
	s *Server

	mu         sync.Mutex
	instances  map[string]*dbInstance
	clusters   map[string]*dbCluster
	snapshots  map[string]*dbSnapshot // instance and cluster snapshots, by identifier
	order      []string               // snapshot identifiers, oldest first
	onSnapshot func(db string) SnapshotBehavior
}

// SnapshotBehavior is how a new snapshot of one DB behaves.
type SnapshotBehavior struct {
	// Steps is how many describes it stays "creating" for (0: one).
	Steps int `json:"steps,omitempty"`
	// Fail ends it "failed" instead of "available".
	Fail bool `json:"fail,omitempty"`
	// Refuse makes CreateDB(Cluster)Snapshot itself fail with this error code
	// (e.g. "SnapshotQuotaExceeded"); no snapshot is created.
	Refuse string `json:"refuse,omitempty"`
}

// SnapshotRule scripts, from outside the process (the sandbox's control
// endpoint), how new snapshots of one DB behave.
type SnapshotRule struct {
	DB string `json:"db"`
	SnapshotBehavior
}

// ScriptJSON sets the snapshot rules from a JSON body {"snapshots": [...]}
// (none: every snapshot becomes available at the first describe) and
// returns them. Unknown fields are refused.
func (x *RDS) ScriptJSON(body []byte) ([]SnapshotRule, error) {
	var in struct {
		Snapshots []SnapshotRule `json:"snapshots"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("parse snapshots: %w", err)
	}
	byDB := map[string]SnapshotBehavior{}
	for i, r := range in.Snapshots {
		if r.DB == "" {
			return nil, fmt.Errorf("snapshot rule %d: db is required", i)
		}
		byDB[r.DB] = r.SnapshotBehavior
	}
	x.OnSnapshot(func(db string) SnapshotBehavior { return byDB[db] })
	return in.Snapshots, nil
}

type dbInstance struct {
	id, engine, cluster, status string
}

// SetDBInstanceStatus sets the status an instance is described with, e.g.
// "modifying"; a snapshot of an instance that is not "available" is
// refused with InvalidDBInstanceState, as RDS refuses it.
func (x *RDS) SetDBInstanceStatus(id, status string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if in := x.instances[id]; in != nil {
		in.status = status
	}
}

type dbCluster struct {
	id, engine string
}

type dbSnapshot struct {
	id, db, engine string
	cluster        bool
	status         string
	stepsLeft      int
	fail           bool
	created        time.Time
	tags           map[string]string
}

func newRDS(s *Server) *RDS {
	return &RDS{s: s, instances: map[string]*dbInstance{}, clusters: map[string]*dbCluster{}, snapshots: map[string]*dbSnapshot{}}
}

// AddDBInstance creates an available DB instance (engine e.g. "postgres").
func (x *RDS) AddDBInstance(id, engine string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.instances[id] = &dbInstance{id: id, engine: engine, status: "available"}
}

// AddDBCluster creates an available Aurora cluster and its member instances.
func (x *RDS) AddDBCluster(id, engine string, members ...string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clusters[id] = &dbCluster{id: id, engine: engine}
	for _, m := range members {
		x.instances[m] = &dbInstance{id: m, engine: engine, cluster: id, status: "available"}
	}
}

// OnSnapshot sets how new snapshots behave, given the DB they are of.
func (x *RDS) OnSnapshot(f func(db string) SnapshotBehavior) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.onSnapshot = f
}

// Snapshots returns the identifiers of the snapshots of one DB (instance
// or cluster), oldest first, whatever their status.
func (x *RDS) Snapshots(db string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for _, id := range x.order {
		if s, ok := x.snapshots[id]; ok && s.db == db {
			out = append(out, id)
		}
	}
	return out
}

const rdsNamespace = "http://rds.amazonaws.com/doc/2014-10-31/"

// snapshotID is RDS's rule for snapshot identifiers.
var snapshotID = regexp.MustCompile(`^[A-Za-z](?:-?[A-Za-z0-9])*$`)

func (x *RDS) serve(w http.ResponseWriter, form url.Values) {
	action := form.Get("Action")
	x.mu.Lock()
	result, err := x.handle(action, form)
	x.mu.Unlock()
	if err != nil {
		apiErr, ok := err.(*APIError)
		if !ok {
			apiErr = &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()}
		}
		writeQueryError(w, apiErr)
		return
	}
	type response struct {
		XMLName xml.Name
		Xmlns   string `xml:"xmlns,attr"`
		Result  any
		Meta    struct {
			RequestID string `xml:"RequestId"`
		} `xml:"ResponseMetadata"`
	}
	out := response{XMLName: xml.Name{Local: action + "Response"}, Xmlns: rdsNamespace, Result: result}
	out.Meta.RequestID = "00000000-0000-0000-0000-000000000000"
	w.Header().Set("Content-Type", "text/xml")
	_ = xml.NewEncoder(w).Encode(out)
}

func (x *RDS) handle(action string, form url.Values) (any, error) {
	switch action {
	case "DescribeDBInstances":
		return x.describeInstances(form.Get("DBInstanceIdentifier"))
	case "DescribeDBClusters":
		return x.describeClusters(form.Get("DBClusterIdentifier"))
	case "CreateDBSnapshot":
		return x.create(false, form.Get("DBInstanceIdentifier"), form.Get("DBSnapshotIdentifier"), queryTags(form))
	case "CreateDBClusterSnapshot":
		return x.create(true, form.Get("DBClusterIdentifier"), form.Get("DBClusterSnapshotIdentifier"), queryTags(form))
	case "DescribeDBSnapshots":
		return x.describeSnapshots(false, form.Get("DBInstanceIdentifier"), form.Get("DBSnapshotIdentifier"))
	case "DescribeDBClusterSnapshots":
		return x.describeSnapshots(true, form.Get("DBClusterIdentifier"), form.Get("DBClusterSnapshotIdentifier"))
	case "DeleteDBSnapshot":
		return x.delete(false, form.Get("DBSnapshotIdentifier"))
	case "DeleteDBClusterSnapshot":
		return x.delete(true, form.Get("DBClusterSnapshotIdentifier"))
	}
	return nil, clientError("InvalidAction", "Could not find operation %s for version 2014-10-31", action)
}

// queryTags reads Tags.Tag.N.Key / Tags.Tag.N.Value.
func queryTags(form url.Values) map[string]string {
	tags := map[string]string{}
	for i := 1; ; i++ {
		k := form.Get("Tags.Tag." + strconv.Itoa(i) + ".Key")
		if k == "" {
			return tags
		}
		tags[k] = form.Get("Tags.Tag." + strconv.Itoa(i) + ".Value")
	}
}

func notFound(code, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

type xmlInstance struct {
	DBInstanceIdentifier string `xml:"DBInstanceIdentifier"`
	DBInstanceStatus     string `xml:"DBInstanceStatus"`
	Engine               string `xml:"Engine"`
	DBClusterIdentifier  string `xml:"DBClusterIdentifier,omitempty"`
	DBInstanceArn        string `xml:"DBInstanceArn"`
}

func (x *RDS) describeInstances(id string) (any, error) {
	type result struct {
		XMLName   xml.Name      `xml:"DescribeDBInstancesResult"`
		Instances []xmlInstance `xml:"DBInstances>DBInstance"`
	}
	var out result
	for _, in := range x.instances {
		if id == "" || in.id == id {
			out.Instances = append(out.Instances, xmlInstance{in.id, in.status, in.engine, in.cluster, x.arn("db", in.id)})
		}
	}
	if id != "" && len(out.Instances) == 0 {
		return nil, notFound("DBInstanceNotFound", "DBInstance %s not found.", id)
	}
	sort.Slice(out.Instances, func(i, j int) bool {
		return out.Instances[i].DBInstanceIdentifier < out.Instances[j].DBInstanceIdentifier
	})
	return out, nil
}

func (x *RDS) describeClusters(id string) (any, error) {
	type cluster struct {
		DBClusterIdentifier string `xml:"DBClusterIdentifier"`
		Status              string `xml:"Status"`
		Engine              string `xml:"Engine"`
		DBClusterArn        string `xml:"DBClusterArn"`
	}
	type result struct {
		XMLName  xml.Name  `xml:"DescribeDBClustersResult"`
		Clusters []cluster `xml:"DBClusters>DBCluster"`
	}
	var out result
	for _, c := range x.clusters {
		if id == "" || c.id == id {
			out.Clusters = append(out.Clusters, cluster{c.id, "available", c.engine, x.arn("cluster", c.id)})
		}
	}
	if id != "" && len(out.Clusters) == 0 {
		return nil, notFound("DBClusterNotFoundFault", "DBCluster %s not found.", id)
	}
	sort.Slice(out.Clusters, func(i, j int) bool { return out.Clusters[i].DBClusterIdentifier < out.Clusters[j].DBClusterIdentifier })
	return out, nil
}

func (x *RDS) arn(kind, id string) string {
	return "arn:aws:rds:" + x.s.opts.Region + ":" + x.s.opts.AccountID + ":" + kind + ":" + id
}
