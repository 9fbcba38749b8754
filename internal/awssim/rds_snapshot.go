package awssim

import (
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"time"
)

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// xmlSnapshot is a DBSnapshot or a DBClusterSnapshot: the same fields under
// different names, chosen by marshal.
type xmlSnapshot struct {
	XMLName            xml.Name
	SnapshotIdentifier string   `xml:"-"`
	DB                 string   `xml:"-"`
	ARN                string   `xml:"-"`
	Status             string   `xml:"Status"`
	SnapshotType       string   `xml:"SnapshotType"`
	SnapshotCreateTime string   `xml:"SnapshotCreateTime"`
	Engine             string   `xml:"Engine"`
	PercentProgress    int      `xml:"PercentProgress"`
	Tags               []xmlTag `xml:"TagList>Tag"`
}

func (s xmlSnapshot) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type fields struct {
		InstanceSnapshot string   `xml:"DBSnapshotIdentifier,omitempty"`
		Instance         string   `xml:"DBInstanceIdentifier,omitempty"`
		InstanceARN      string   `xml:"DBSnapshotArn,omitempty"`
		ClusterSnapshot  string   `xml:"DBClusterSnapshotIdentifier,omitempty"`
		Cluster          string   `xml:"DBClusterIdentifier,omitempty"`
		ClusterARN       string   `xml:"DBClusterSnapshotArn,omitempty"`
		Status           string   `xml:"Status"`
		SnapshotType     string   `xml:"SnapshotType"`
		CreateTime       string   `xml:"SnapshotCreateTime"`
		Engine           string   `xml:"Engine"`
		PercentProgress  int      `xml:"PercentProgress"`
		Tags             []xmlTag `xml:"TagList>Tag"`
	}
	f := fields{Status: s.Status, SnapshotType: s.SnapshotType, CreateTime: s.SnapshotCreateTime, Engine: s.Engine, PercentProgress: s.PercentProgress, Tags: s.Tags}
	if s.XMLName.Local == "DBClusterSnapshot" {
		f.ClusterSnapshot, f.Cluster, f.ClusterARN = s.SnapshotIdentifier, s.DB, s.ARN
	} else {
		f.InstanceSnapshot, f.Instance, f.InstanceARN = s.SnapshotIdentifier, s.DB, s.ARN
	}
	start.Name = s.XMLName
	return e.EncodeElement(f, start)
}

func (x *RDS) view(s *dbSnapshot) xmlSnapshot {
	name, kind := "DBSnapshot", "snapshot"
	if s.cluster {
		name, kind = "DBClusterSnapshot", "cluster-snapshot"
	}
	progress := 0
	if s.status == "available" {
		progress = 100
	}
	v := xmlSnapshot{XMLName: xml.Name{Local: name}, SnapshotIdentifier: s.id, DB: s.db, ARN: x.arn(kind, s.id), Status: s.status,
		SnapshotType: "manual", SnapshotCreateTime: s.created.UTC().Format("2006-01-02T15:04:05.000Z"), Engine: s.engine, PercentProgress: progress}
	for _, k := range slices.Sorted(maps.Keys(s.tags)) {
		v.Tags = append(v.Tags, xmlTag{k, s.tags[k]})
	}
	return v
}

func (x *RDS) create(cluster bool, db, id string, tags map[string]string) (any, error) {
	idParam, dbParam := "DBSnapshotIdentifier", "DBInstanceIdentifier"
	if cluster {
		idParam, dbParam = "DBClusterSnapshotIdentifier", "DBClusterIdentifier"
	}
	switch {
	case db == "":
		return nil, clientError("MissingParameter", "The request must contain the parameter %s", dbParam)
	case len(id) > 255 || !snapshotID.MatchString(id):
		return nil, clientError("InvalidParameterValue", "The parameter %s is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.", idParam)
	}
	engine := ""
	if cluster {
		c, ok := x.clusters[db]
		if !ok {
			return nil, notFound("DBClusterNotFoundFault", "DBCluster %s not found.", db)
		}
		engine = c.engine
	} else {
		in, ok := x.instances[db]
		if !ok {
			return nil, notFound("DBInstanceNotFound", "DBInstance %s not found.", db)
		}
		if in.status != "available" {
			return nil, clientError("InvalidDBInstanceState", "Cannot create a snapshot because the database instance %s is not currently in the available state.", db)
		}
		if in.cluster != "" {
			return nil, clientError("InvalidParameterCombination", "The specified instance is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.")
		}
		engine = in.engine
	}
	if _, ok := x.snapshots[id]; ok {
		if cluster {
			return nil, clientError("DBClusterSnapshotAlreadyExistsFault", "Cannot create the cluster snapshot because one with the identifier %s already exists.", id)
		}
		return nil, clientError("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", id)
	}
	var b SnapshotBehavior
	if x.onSnapshot != nil {
		b = x.onSnapshot(db)
	}
	if b.Refuse != "" {
		return nil, clientError(b.Refuse, "awssim: snapshot of %s refused by a scripted failure", db)
	}
	steps := b.Steps
	if steps <= 0 {
		steps = 1
	}
	s := &dbSnapshot{id: id, db: db, engine: engine, cluster: cluster, status: "creating", stepsLeft: steps, fail: b.Fail, created: time.Now(), tags: tags}
	x.snapshots[id] = s
	x.order = append(x.order, id)
	return x.result("Create", cluster, s), nil
}

// result wraps one snapshot in the <OperationResult> element.
func (x *RDS) result(op string, cluster bool, s *dbSnapshot) any {
	name := "DBSnapshot"
	if cluster {
		name = "DBClusterSnapshot"
	}
	type result struct {
		XMLName  xml.Name
		Snapshot xmlSnapshot
	}
	return result{XMLName: xml.Name{Local: op + name + "Result"}, Snapshot: x.view(s)}
}

func (x *RDS) describeSnapshots(cluster bool, db, id string) (any, error) {
	name := "DBSnapshot"
	if cluster {
		name = "DBClusterSnapshot"
	}
	var list []xmlSnapshot
	for _, sid := range x.order {
		s := x.snapshots[sid]
		if s == nil || s.cluster != cluster || (db != "" && s.db != db) || (id != "" && s.id != id) {
			continue
		}
		if s.status == "creating" {
			if s.stepsLeft--; s.stepsLeft <= 0 {
				s.status = "available"
				if s.fail {
					s.status = "failed"
				}
			}
		}
		list = append(list, x.view(s))
	}
	if id != "" && len(list) == 0 {
		if cluster {
			return nil, notFound("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", id)
		}
		return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
	}
	type wrapper struct {
		XMLName xml.Name
		Inner   struct {
			XMLName xml.Name
			Items   []xmlSnapshot
		}
	}
	var out wrapper
	out.XMLName = xml.Name{Local: "Describe" + name + "sResult"}
	out.Inner.XMLName = xml.Name{Local: name + "s"}
	out.Inner.Items = list
	return out, nil
}

func (x *RDS) delete(cluster bool, id string) (any, error) {
	s, ok := x.snapshots[id]
	if !ok || s.cluster != cluster {
		if cluster {
			return nil, notFound("DBClusterSnapshotNotFoundFault", "DBClusterSnapshot %s not found.", id)
		}
		return nil, notFound("DBSnapshotNotFound", "DBSnapshot %s not found.", id)
	}
	if s.status == "creating" {
		code := "InvalidDBSnapshotState"
		if cluster {
			code = "InvalidDBClusterSnapshotStateFault"
		}
		return nil, &APIError{Status: http.StatusBadRequest, Code: code, Message: "Cannot delete the snapshot " + id + " while it is being created."}
	}
	delete(x.snapshots, id)
	s.status = "deleted"
	return x.result("Delete", cluster, s), nil
}
