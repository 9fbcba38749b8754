package control

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/futuraplataforma/esteira/internal/awssim"
)

// Handler serves the control endpoints for sim and sends every other
// request to front (the simulator, S3 and the registry on one endpoint).
func Handler(sim *awssim.Server, front *awssim.Gateway) http.Handler {
	s := &server{sim: sim, front: front,
		lambda: awssim.LambdaRules{Updates: []awssim.UpdateRule{}, Alarms: []awssim.AlarmRule{}}}
	mux := http.NewServeMux()
	mux.Handle("/", front)
	mux.HandleFunc(RulesPath, getPut(s.rules))
	mux.HandleFunc(FaultsPath, getPut(s.faults))
	mux.HandleFunc(SnapshotsPath, getPut(s.snapshots))
	mux.HandleFunc(LambdaPath, getPut(s.lambdaRules))
	mux.HandleFunc(DeploymentsPath, getPut(s.deploymentRules))
	mux.HandleFunc(KeyValueStorePath, getPut(s.keyValueStores))
	mux.HandleFunc(WebhooksPath, s.webhooks)
	return mux
}

// server keeps what was scripted through it, to answer GET: the
// simulator's rules as last replaced here, and the notifications.
type server struct {
	sim   *awssim.Server
	front *awssim.Gateway

	mu            sync.Mutex
	ecsRules      []awssim.Rule
	snapshotRules []awssim.SnapshotRule
	lambda        awssim.LambdaRules
	hooks         []json.RawMessage
}

func (s *server) rules(body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body != nil {
		r, err := s.sim.ECS.ScriptJSON(body)
		if err != nil {
			return nil, err
		}
		s.ecsRules = r
	}
	return map[string]any{"rules": append([]awssim.Rule{}, s.ecsRules...)}, nil
}

func (s *server) faults(body []byte) (any, error) {
	if body != nil {
		var in struct {
			Faults []awssim.S3Fault `json:"faults"`
		}
		if err := decodeStrict(body, &in); err != nil {
			return nil, fmt.Errorf("parse faults: %w", err)
		}
		if err := s.front.SetS3Faults(in.Faults); err != nil {
			return nil, err
		}
	}
	return map[string]any{"faults": s.front.S3Faults()}, nil
}

func (s *server) snapshots(body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body != nil {
		r, err := s.sim.RDS.ScriptJSON(body)
		if err != nil {
			return nil, err
		}
		s.snapshotRules = r
	}
	return map[string]any{"snapshots": append([]awssim.SnapshotRule{}, s.snapshotRules...)}, nil
}

func (s *server) lambdaRules(body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body != nil {
		var in awssim.LambdaRules
		if err := decodeStrict(body, &in); err != nil {
			return nil, fmt.Errorf("parse lambda rules: %w", err)
		}
		if err := s.sim.ScriptLambda(in); err != nil {
			return nil, err
		}
		s.lambda = in
	}
	return s.lambda, nil
}

// deploymentRules answers the failures in force (scripted, not used yet)
// and every alarm's state: what the simulator holds, not the last PUT.
func (s *server) deploymentRules(body []byte) (any, error) {
	if body != nil {
		var in awssim.DeploymentRules
		if err := decodeStrict(body, &in); err != nil {
			return nil, fmt.Errorf("parse deployment rules: %w", err)
		}
		if err := s.sim.ScriptDeployments(in); err != nil {
			return nil, err
		}
	}
	return s.sim.Deployments(), nil
}

func (s *server) keyValueStores(body []byte) (any, error) {
	if body != nil {
		if err := s.sim.KVS.ScriptJSON(body); err != nil {
			return nil, err
		}
	}
	return map[string]any{"stores": s.sim.KVS.Stores(), "faults": s.sim.KVS.Faults()}, nil
}

// webhooks records a POSTed notification, or lists the kept ones on GET.
func (s *server) webhooks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !json.Valid(body) {
			http.Error(w, "post a JSON body", http.StatusBadRequest)
			return
		}
		s.hooks = append(s.hooks, body)
		if len(s.hooks) > MaxWebhooks {
			s.hooks = s.hooks[len(s.hooks)-MaxWebhooks:]
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"webhooks": append([]json.RawMessage{}, s.hooks...)})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
	}
}

// getPut serves one GET/PUT endpoint: GET calls apply(nil), PUT calls it
// with the body; the answer is the state in force, as JSON, or 400 and
// the reason apply refused the body.
func getPut(apply func(body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch r.Method {
		case http.MethodGet:
		case http.MethodPut:
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		default:
			w.Header().Set("Allow", "GET, PUT")
			http.Error(w, "use GET or PUT", http.StatusMethodNotAllowed)
			return
		}
		out, err := apply(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
