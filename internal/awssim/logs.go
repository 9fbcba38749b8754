package awssim

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Logs simulates CloudWatch Logs for reading what tasks wrote through the
// awslogs driver: GetLogEvents, FilterLogEvents and DescribeLogStreams.
// ECS writes a task's scripted LogLines when it reaches RUNNING; tests may
// also write lines directly with Put.
type Logs struct {
	s *Server

	mu     sync.Mutex
	groups map[string]map[string]*logStream // group → stream name → stream
}

type logStream struct {
	name    string
	created int64
	events  []logEvent
}

type logEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

func newLogs(s *Server) *Logs { return &Logs{s: s, groups: map[string]map[string]*logStream{}} }

// CreateLogGroup creates an empty log group (ECS creates groups on first write).
func (x *Logs) CreateLogGroup(group string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.groups[group] == nil {
		x.groups[group] = map[string]*logStream{}
	}
}

// Put appends lines to a stream, creating the group and stream if needed.
func (x *Logs) Put(group, stream string, lines ...string) {
	x.write(group, stream, time.Now().UnixMilli(), lines)
}

// Lines returns the messages of one stream, oldest first.
func (x *Logs) Lines(group, stream string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	if st := x.groups[group][stream]; st != nil {
		for _, e := range st.events {
			out = append(out, e.Message)
		}
	}
	return out
}

func (x *Logs) write(group, stream string, ms int64, lines []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.groups[group] == nil {
		x.groups[group] = map[string]*logStream{}
	}
	st := x.groups[group][stream]
	if st == nil {
		st = &logStream{name: stream, created: ms}
		x.groups[group][stream] = st
	}
	for i, line := range lines {
		ts := ms + int64(i)
		st.events = append(st.events, logEvent{Timestamp: ts, Message: line, IngestionTime: ts + 5})
	}
}

func (x *Logs) handle(op string, body []byte) (any, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch op {
	case "GetLogEvents":
		return x.getLogEvents(body)
	case "FilterLogEvents":
		return x.filterLogEvents(body)
	case "DescribeLogStreams":
		return x.describeLogStreams(body)
	}
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}

// group resolves a log group name or identifier (name or ARN).
func (x *Logs) group(name, identifier string) (map[string]*logStream, error) {
	if name == "" && identifier != "" {
		name = identifier
		if _, after, ok := strings.Cut(identifier, ":log-group:"); ok && strings.HasPrefix(identifier, "arn:") {
			name = strings.TrimSuffix(after, ":*")
		}
	}
	if name == "" {
		return nil, clientError("InvalidParameterException", "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null")
	}
	g := x.groups[name]
	if g == nil {
		return nil, clientError("ResourceNotFoundException", "The specified log group does not exist.")
	}
	return g, nil
}

type getLogEventsOutput struct {
	Events            []logEvent `json:"events"`
	NextForwardToken  string     `json:"nextForwardToken"`
	NextBackwardToken string     `json:"nextBackwardToken"`
}

// getLogEvents pages by position: "f/<n>" reads forward from event n,
// "b/<n>" backward before n. At the end the forward token repeats the one
// sent, which is how callers (and the SDK paginator with
// StopOnDuplicateToken) know they have caught up.
func (x *Logs) getLogEvents(body []byte) (any, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartFromHead      bool   `json:"startFromHead"`
		NextToken          string `json:"nextToken"`
		Limit              int    `json:"limit"`
		StartTime          int64  `json:"startTime"`
		EndTime            int64  `json:"endTime"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	g, err := x.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st := g[in.LogStreamName]
	if st == nil {
		return nil, clientError("ResourceNotFoundException", "The specified log stream does not exist.")
	}
	var events []logEvent
	for _, e := range st.events {
		if (in.StartTime == 0 || e.Timestamp >= in.StartTime) && (in.EndTime == 0 || e.Timestamp < in.EndTime) {
			events = append(events, e)
		}
	}
	limit := in.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	from, to, err := logWindow(in.NextToken, in.StartFromHead, len(events), limit)
	if err != nil {
		return nil, err
	}
	out := getLogEventsOutput{Events: nonNil(slices.Clone(events[from:to])),
		NextForwardToken: "f/" + pad(to), NextBackwardToken: "b/" + pad(from)}
	return out, nil
}

// logWindow returns the [from, to) slice of n events a GetLogEvents call reads.
func logWindow(token string, fromHead bool, n, limit int) (int, int, error) {
	if token == "" {
		if fromHead {
			return 0, min(limit, n), nil
		}
		return max(0, n-limit), n, nil
	}
	dir, pos, ok := strings.Cut(token, "/")
	p, err := strconv.Atoi(pos)
	if !ok || err != nil || p < 0 || (dir != "f" && dir != "b") {
		return 0, 0, clientError("InvalidParameterException", "The specified nextToken is invalid.")
	}
	p = min(p, n)
	if dir == "f" {
		return p, min(p+limit, n), nil
	}
	return max(0, p-limit), p, nil
}

func pad(n int) string { return strconv.FormatInt(int64(n), 10) }

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// filterLogEvents searches the group's streams, ordered by time. The filter
// pattern supports the plain-term form: every space-separated term (or
// "quoted phrase") must appear in the message.
func (x *Logs) filterLogEvents(body []byte) (any, error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           int64    `json:"startTime"`
		EndTime             int64    `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		NextToken           string   `json:"nextToken"`
		Limit               int32    `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	g, err := x.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, clientError("InvalidParameterException", "Cannot specify both logStreamNames and logStreamNamePrefix.")
	}
	terms := filterTerms(in.FilterPattern)
	var events []filteredEvent
	for _, name := range slices.Sorted(maps.Keys(g)) {
		if (len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, name)) || !strings.HasPrefix(name, in.LogStreamNamePrefix) {
			continue
		}
		for i, e := range g[name].events {
			if (in.StartTime != 0 && e.Timestamp < in.StartTime) || (in.EndTime != 0 && e.Timestamp > in.EndTime) || !matchesAll(e.Message, terms) {
				continue
			}
			events = append(events, filteredEvent{LogStreamName: name, Timestamp: e.Timestamp, Message: e.Message,
				IngestionTime: e.IngestionTime, EventID: name + "/" + strconv.Itoa(i)})
		}
	}
	slices.SortStableFunc(events, func(a, b filteredEvent) int { return int(a.Timestamp - b.Timestamp) })
	items, next, err := page(events, in.NextToken, in.Limit, 10000)
	if err != nil {
		return nil, err
	}
	return struct {
		Events    []filteredEvent `json:"events"`
		NextToken string          `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}

func filterTerms(pattern string) []string {
	var terms []string
	for i, part := range strings.Split(pattern, `"`) {
		if i%2 == 1 {
			terms = append(terms, part)
			continue
		}
		terms = append(terms, strings.Fields(part)...)
	}
	return terms
}

func matchesAll(msg string, terms []string) bool {
	for _, t := range terms {
		if t != "" && !strings.Contains(msg, t) {
			return false
		}
	}
	return true
}

type logStreamView struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
	Arn                 string `json:"arn"`
}

func (x *Logs) describeLogStreams(body []byte) (any, error) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogGroupIdentifier  string `json:"logGroupIdentifier"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		OrderBy             string `json:"orderBy"`
		Descending          bool   `json:"descending"`
		NextToken           string `json:"nextToken"`
		Limit               int32  `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	g, err := x.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.OrderBy == "LastEventTime" && in.LogStreamNamePrefix != "" {
		return nil, clientError("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	group := in.LogGroupName
	if group == "" {
		group = in.LogGroupIdentifier
	}
	var streams []logStreamView
	for _, name := range slices.Sorted(maps.Keys(g)) {
		st := g[name]
		if !strings.HasPrefix(name, in.LogStreamNamePrefix) {
			continue
		}
		v := logStreamView{LogStreamName: name, CreationTime: st.created,
			Arn: "arn:aws:logs:" + x.s.opts.Region + ":" + x.s.opts.AccountID + ":log-group:" + group + ":log-stream:" + name}
		if n := len(st.events); n > 0 {
			v.FirstEventTimestamp, v.LastEventTimestamp, v.LastIngestionTime = st.events[0].Timestamp, st.events[n-1].Timestamp, st.events[n-1].IngestionTime
		}
		streams = append(streams, v)
	}
	if in.OrderBy == "LastEventTime" {
		slices.SortStableFunc(streams, func(a, b logStreamView) int { return int(a.LastEventTimestamp - b.LastEventTimestamp) })
	}
	if in.Descending {
		slices.Reverse(streams)
	}
	items, next, err := page(streams, in.NextToken, in.Limit, 50)
	if err != nil {
		return nil, err
	}
	return struct {
		LogStreams []logStreamView `json:"logStreams"`
		NextToken  string          `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}
