// Alerts (scheduled query rules on Application Insights), on the app's OpenTelemetry metrics, which
// Application Insights stores as rows of `customMetrics` (name, valueSum / valueMax, attributes in
// customDimensions; names and units in shared/telemetry/names.ts):
// - poison-queue depth: the gauge engage_bridge.poison.depth, recorded per `*-poison` queue by the
//   poisonMonitor function every POISON_MONITOR_SCHEDULE. The rule fires, per queue, when the
//   deepest reading in the window exceeds the threshold. (Azure Monitor's own storage metric
//   QueueMessageCount is per account and hourly, with no queue dimension, so it cannot watch single queues.)
// - storage outages: the counter engage_bridge.storage.unavailable (webhook answered 503, drain or
//   Noojee run stopped), per function.
// - failed function invocations (HTTP 5xx answers, trigger exceptions), per function.

param namePrefix string
param location string
param tags object = {}
param applicationInsightsId string

@description('E-mail address notified by the alerts. Empty = no action group (alerts still fire in the portal).')
param alertEmail string = ''

@description('Messages tolerated in a poison queue before the alert fires (0 = any).')
@minValue(0)
param poisonQueueDepthThreshold int = 0

@description('Storage-unavailable failures (503 answers, stopped runs) tolerated per window before the alert fires (0 = any).')
@minValue(0)
param storageUnavailableThreshold int = 0

@description('Failed function invocations tolerated per window before the alert fires (0 = any).')
@minValue(0)
param functionFailureThreshold int = 0

@description('Evaluation window and frequency (ISO 8601 duration).')
param window string = 'PT15M'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${namePrefix}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(replace(namePrefix, '-', ''), 12)
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail) ? [] : [actionGroup.id]

resource poisonAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-poison-queue-depth'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix}: messages in a poison queue'
    description: 'A <queue>-poison queue holds messages: a queue-triggered function failed on them maxDequeueCount times. Inspect them with `engage-bridge poison list` / `poison show --queue <queue>`, fix the cause, then `engage-bridge poison replay --queue <queue>`.'
    severity: 2
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: window
    windowSize: window
    autoMitigate: true
    // The rule may be created before the workspace has these tables (first deployment): Azure would
    // reject the query; npm test parses it offline instead (test/unit/infra/kql.test.ts).
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "engage_bridge.poison.depth" | summarize depth = max(valueMax) by queue = tostring(customDimensions.queue)'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'depth'
          dimensions: [
            {
              name: 'queue'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: poisonQueueDepthThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}

resource storageAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-storage-unavailable'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix}: queue storage unavailable'
    description: 'Queue storage could not be reached: the webhook answered 503 (the pusher retries), or a drain / Noojee run stopped (the next run continues). Nothing is lost, but events wait. Check the storage account and the app identity\'s roles.'
    severity: 2
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: window
    windowSize: window
    autoMitigate: true
    // As above: created before the workspace has the table (npm test parses the query offline).
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "engage_bridge.storage.unavailable" | summarize failures = sum(valueSum) by functionName = tostring(customDimensions["function"])'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          dimensions: [
            {
              name: 'functionName'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: storageUnavailableThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}

resource drainLostAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-notifications-lost'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix}: Notification API notifications lost'
    description: 'The v2 drain read notifications (a destructive read) and could not land them before the invocation had to end: they are gone upstream. The function log names every lost id and the reason (engage_bridge.drain.lost, by reason). Recover them from the source system if it can resend them.'
    severity: 1
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: window
    windowSize: window
    autoMitigate: true
    // As above: created before the workspace has the table (npm test parses the query offline).
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "engage_bridge.drain.lost" | summarize lost = sum(valueSum) by reason = tostring(customDimensions.reason)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'lost'
          dimensions: [
            {
              name: 'reason'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}

resource failureAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-function-failures'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix}: function invocations failed'
    description: 'Function invocations ended in failure (HTTP 5xx answers, timer or queue trigger exceptions).'
    severity: 2
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: window
    windowSize: window
    autoMitigate: true
    // The rule may be created before the workspace has these tables (first deployment): Azure would
    // reject the query; npm test parses it offline instead (test/unit/infra/kql.test.ts).
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: 'requests | where success == false | summarize failures = count() by functionName = operation_Name'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          dimensions: [
            {
              name: 'functionName'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: functionFailureThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actions
    }
  }
}
