output "table_name" {
  description = "The module option tableName."
  value       = aws_dynamodb_table.cache.name
}

output "table_arn" {
  value = aws_dynamodb_table.cache.arn
}

output "stream_arn" {
  description = "The table's stream (null without one)."
  value       = aws_dynamodb_table.cache.stream_arn
}

output "module_options" {
  description = "The names to pass to DynamoCacheModule.forRoot (with createTableIfNotExists left false)."
  value       = {
    tableName        = aws_dynamodb_table.cache.name
    partitionKeyName = var.partition_key_name
    ttlAttributeName = var.ttl_attribute_name
    sortKeyName      = var.sort_key_name
  }
}

output "policy_documents" {
  description = "One IAM policy document (JSON) per permission: items, scan, startup_checks, table_creation, streams."
  value       = local.policy_documents
}

output "policy_arns" {
  description = "The managed policies made from policy_documents (empty with create_policies = false)."
  value       = { for name, policy in aws_iam_policy.cache : name => policy.arn }
}
