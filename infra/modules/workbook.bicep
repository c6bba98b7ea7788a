// Azure Monitor workbook "engage-bridge": one page per operator question, from the app's
// OpenTelemetry metrics (rows of `customMetrics`: name, valueSum/valueCount/valueMax, attributes in
// customDimensions; names and units in shared/telemetry/names.ts) and the requests / exceptions
// tables. Panels: webhook rate and status, end-to-end latency (upstream event time → end of the
// consumer), queue and poison depth, drain backlog, Noojee cursor lag, consumer outcomes, and the
// failed operations (request, result, first exception, operation_Id: the end-to-end transaction's id
// in Application Insights → Transaction search).
// Every query below parses with @kusto/language-service-next (test/unit/infra/workbook.test.ts) and
// resolves against the Application Insights schema (test/unit/infra/kql.test.ts).

param displayName string
param location string
param tags object = {}
param applicationInsightsId string

// The queries (Kusto), by panel. The workbook applies its time range parameter to each.
var queries = {
  webhookRate: '''
customMetrics
| where name == "engage_bridge.webhook.requests"
| extend status = tostring(customDimensions.status)
| summarize requests = sum(valueSum) by bin(timestamp, 5m), status
| render timechart
'''
  latency: '''
customMetrics
| where name == "engage_bridge.consumer.latency"
| extend consumer = tostring(customDimensions["function"])
| summarize avg_ms = sum(valueSum) / sum(valueCount), max_ms = max(valueMax) by bin(timestamp, 5m), consumer
| render timechart
'''
  queueDepth: '''
customMetrics
| where name in ("engage_bridge.queue.depth", "engage_bridge.poison.depth")
| extend queue = tostring(customDimensions.queue)
| summarize depth = max(valueMax) by bin(timestamp, 5m), queue
| render timechart
'''
  drainBacklog: '''
customMetrics
| where name in ("engage_bridge.drain.backlog", "engage_bridge.drain.notifications", "engage_bridge.drain.journal_replays")
| summarize reading = max(valueMax), total = sum(valueSum) by bin(timestamp, 5m), name
| extend value = iff(name == "engage_bridge.drain.backlog", reading, total)
| project timestamp, name, value
| render timechart
'''
  noojeeLag: '''
customMetrics
| where name in ("engage_bridge.noojee.cursor_lag", "engage_bridge.noojee.events")
| summarize lag_avg_s = sumif(valueSum, name == "engage_bridge.noojee.cursor_lag") / sumif(valueCount, name == "engage_bridge.noojee.cursor_lag"), lag_max_s = maxif(valueMax, name == "engage_bridge.noojee.cursor_lag"), events = sumif(valueSum, name == "engage_bridge.noojee.events") by bin(timestamp, 5m)
| render timechart
'''
  consumerOutcomes: '''
customMetrics
| where name == "engage_bridge.consumer.messages"
| extend consumer = tostring(customDimensions["function"]), outcome = tostring(customDimensions.outcome)
| summarize messages = sum(valueSum) by consumer, outcome
| order by consumer asc, outcome asc
'''
  failures: '''
requests
| where success == false
| project timestamp, name, resultCode, duration, operation_Id, itemId
| join kind=leftouter (exceptions | summarize problem = take_any(outerMessage) by operation_Id) on operation_Id
| project timestamp, name, resultCode, duration, problem, operation_Id, itemId
| order by timestamp desc
| take 200
'''
}

var timeRange = {
  type: 9
  name: 'parameters'
  content: {
    version: 'KqlParameterItem/1.0'
    parameters: [
      {
        id: 'time-range'
        version: 'KqlParameterItem/1.0'
        name: 'TimeRange'
        label: 'Time range'
        type: 4
        isRequired: true
        value: { durationMs: 86400000 }
        typeSettings: { selectableValues: [{ durationMs: 3600000 }, { durationMs: 14400000 }, { durationMs: 86400000 }, { durationMs: 604800000 }] }
      }
    ]
  }
}

// A query panel on this component, over the TimeRange parameter.
var panels = [
  { name: 'webhook', title: 'Webhook requests by status (per 5 min)', query: queries.webhookRate, visualization: 'timechart' }
  { name: 'latency', title: 'End-to-end latency, upstream event time → consumer done (ms)', query: queries.latency, visualization: 'timechart' }
  { name: 'depth', title: 'Queue and poison-queue depth (messages)', query: queries.queueDepth, visualization: 'timechart' }
  { name: 'drain', title: 'Notification API drain: backlog, drained, journal replays', query: queries.drainBacklog, visualization: 'timechart' }
  { name: 'noojee', title: 'Noojee: cursor lag (s) and events', query: queries.noojeeLag, visualization: 'timechart' }
  { name: 'outcomes', title: 'Consumer outcomes (ok, ignored, retried, poisoned)', query: queries.consumerOutcomes, visualization: 'table' }
  { name: 'failures', title: 'Failed operations (operation_Id = the end-to-end transaction in Transaction search)', query: queries.failures, visualization: 'table' }
]

var workbook = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 1
        name: 'intro'
        content: { json: '## engage-bridge\nUpstream events → queues → consumers. Metrics: `engage_bridge.*` (units in the README). A trace runs from the webhook request (or a drain page / Noojee poll) through the queue to the consumer.' }
      }
      timeRange
    ],
    map(panels, p => {
      type: 3
      name: p.name
      content: {
        version: 'KqlItem/1.0'
        title: p.title
        query: p.query
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        visualization: p.visualization
        timeContextFromParameter: 'TimeRange'
        timeContext: { durationMs: 86400000 }
        gridSettings: p.name == 'failures' ? { formatters: [{ columnMatch: 'operation_Id', formatter: 7, formatOptions: { linkTarget: 'GenericDetails', linkIsContextBlade: true } }] } : {}
      }
    })
  )
  isLocked: false
}

resource engageWorkbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsightsId, 'engage-bridge-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: string(workbook)
  }
}

output workbookId string = engageWorkbook.id
