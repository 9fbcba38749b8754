package awssim_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var migrationLines = []string{"applying 0001_init", "applying 0002_users", "applying 0003_orders", "done: 3 migrations"}

// runLoggingTask runs a one-off task whose app container writes
// migrationLines, observes it to RUNNING and returns its task ID.
func runLoggingTask(t *testing.T, e env) string {
	t.Helper()
	e.sim.ECS.CreateCluster("main")
	e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{LogLines: map[string][]string{"app": migrationLines}}
	})
	arn := aws.ToString(e.runTask(t, e.registerApp(t, "api")).TaskArn)
	e.describeTask(t, arn)
	task, _ := e.describeTask(t, arn)
	require.Equal(t, "RUNNING", aws.ToString(task.LastStatus))
	return arn[len(arn)-32:]
}

func TestGetLogEvents_PaginatorReadsTheTaskStreamAndStopsAtTheEnd(t *testing.T) {
	e := newEnv(t)
	id := runLoggingTask(t, e)

	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/api"), LogStreamName: aws.String("ecs/app/" + id),
		StartFromHead: aws.Bool(true), Limit: aws.Int32(3)}
	p := cloudwatchlogs.NewGetLogEventsPaginator(e.logs, in, func(o *cloudwatchlogs.GetLogEventsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	var got []string
	pages := 0
	for p.HasMorePages() && pages < 10 {
		page, err := p.NextPage(e.ctx)
		require.NoError(t, err)
		pages++
		for _, ev := range page.Events {
			got = append(got, aws.ToString(ev.Message))
			assert.NotZero(t, aws.ToInt64(ev.Timestamp))
		}
	}
	assert.Equal(t, migrationLines, got)
	assert.Equal(t, 3, pages, "3 events, 1 event, then the repeated token ends it")

	e.sim.Logs.Put("/ecs/api", "ecs/app/"+id, "late line")
	tail, err := e.logs.GetLogEvents(e.ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/api"),
		LogStreamName: aws.String("ecs/app/" + id), Limit: aws.Int32(2)})
	require.NoError(t, err)
	require.Len(t, tail.Events, 2, "without startFromHead the newest events come back")
	assert.Equal(t, "late line", aws.ToString(tail.Events[1].Message))
}

func TestGetLogEvents_UnknownGroupOrStreamIsResourceNotFound(t *testing.T) {
	e := newEnv(t)
	e.sim.Logs.CreateLogGroup("/ecs/api")
	for _, in := range []*cloudwatchlogs.GetLogEventsInput{
		{LogGroupName: aws.String("/ecs/ghost"), LogStreamName: aws.String("s")},
		{LogGroupName: aws.String("/ecs/api"), LogStreamName: aws.String("ghost")},
	} {
		_, err := e.logs.GetLogEvents(e.ctx, in)
		assert.True(t, errors.As(err, new(*logtypes.ResourceNotFoundException)), "got %v", err)
	}
}

func TestFilterLogEvents_MatchesTermsAcrossStreams(t *testing.T) {
	e := newEnv(t)
	id := runLoggingTask(t, e)
	e.sim.Logs.Put("/ecs/api", "ecs/app/other", "applying 0009_late")

	out, err := e.logs.FilterLogEvents(e.ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/ecs/api"),
		LogStreamNamePrefix: aws.String("ecs/app/" + id), FilterPattern: aws.String(`applying "_users"`)})
	require.NoError(t, err)
	require.Len(t, out.Events, 1)
	assert.Equal(t, "applying 0002_users", aws.ToString(out.Events[0].Message))
	assert.Equal(t, "ecs/app/"+id, aws.ToString(out.Events[0].LogStreamName))

	var all []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(e.logs, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/ecs/api"),
		FilterPattern: aws.String("applying"), Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		require.NoError(t, err)
		for _, ev := range page.Events {
			all = append(all, aws.ToString(ev.Message))
		}
	}
	assert.ElementsMatch(t, []string{"applying 0001_init", "applying 0002_users", "applying 0003_orders", "applying 0009_late"}, all)
}

func TestDescribeLogStreams_ListsStreamsByPrefix(t *testing.T) {
	e := newEnv(t)
	id := runLoggingTask(t, e)
	e.sim.Logs.Put("/ecs/api", "other/app/x", "hello")

	out, err := e.logs.DescribeLogStreams(e.ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/api"),
		LogStreamNamePrefix: aws.String("ecs/")})
	require.NoError(t, err)
	require.Len(t, out.LogStreams, 1)
	assert.Equal(t, "ecs/app/"+id, aws.ToString(out.LogStreams[0].LogStreamName))
	assert.NotZero(t, aws.ToInt64(out.LogStreams[0].LastEventTimestamp))
}

func TestGetLogEvents_AcceptsTheLogGroupARNAsIdentifier(t *testing.T) {
	e := newEnv(t)
	e.sim.Logs.Put("/ecs/api", "ecs/app/1", "hello")
	out, err := e.logs.GetLogEvents(e.ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupIdentifier: aws.String("arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/api"),
		LogStreamName:      aws.String("ecs/app/1"), StartFromHead: aws.Bool(true)})
	require.NoError(t, err)
	require.Len(t, out.Events, 1)
	assert.Equal(t, "hello", aws.ToString(out.Events[0].Message))
}
