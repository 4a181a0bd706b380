variable "table_name" {
  description = "The module option tableName."
  type        = string
  default     = "app_cache"
}

variable "partition_key_name" {
  description = "The module option partitionKeyName: the table's string partition key."
  type        = string
  default     = "pk"
}

variable "ttl_attribute_name" {
  description = "The module option ttlAttributeName: DynamoDB deletes an item once the epoch seconds in it have passed."
  type        = string
  default     = "ttl"
}

variable "sort_key_name" {
  description = "The module option sortKeyName, for a table of a single-table design (a string sort key). Null: no sort key."
  type        = string
  default     = null
}

variable "stream_enabled" {
  description = "A KEYS_ONLY stream, which backplane: { type: 'streams' } reads. A stream costs nothing until it is read."
  type        = bool
  default     = true
}

variable "partition_key_prefix" {
  description = "The module option partitionKeyPrefix: the items policy allows only the keys under it (dynamodb:LeadingKeys)."
  type        = string
  default     = "dc:"
}

variable "create_policies" {
  description = "Create one IAM managed policy per permission (outputs policy_arns); false: only the documents (outputs policy_documents)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the table and the policies."
  type        = map(string)
  default     = {}
}
