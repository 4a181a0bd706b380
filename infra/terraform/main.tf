# The table of a nest-dynamo-cache cache, as createTableIfNotExists would create it, and one IAM
# policy per permission. test/infra/infra-as-code.spec.ts parses this folder and checks it against
# the CDK construct (infra/cdk/dynamo-cache-table.ts): keep the two in step.

resource "aws_dynamodb_table" "cache" {
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.partition_key_name
  range_key    = var.sort_key_name

  attribute {
    name = var.partition_key_name
    type = "S"
  }

  dynamic "attribute" {
    for_each = var.sort_key_name == null ? [] : [var.sort_key_name]
    content {
      name = attribute.value
      type = "S"
    }
  }

  ttl {
    attribute_name = var.ttl_attribute_name
    enabled        = true
  }

  stream_enabled   = var.stream_enabled
  stream_view_type = var.stream_enabled ? "KEYS_ONLY" : null

  tags = var.tags
}

# Every mode: the store, sessions, locks and both backplanes' items, confined to the keys under the
# module's partitionKeyPrefix.
data "aws_iam_policy_document" "items" {
  statement {
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
    ]
    resources = [aws_dynamodb_table.cache.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["${var.partition_key_prefix}*"]
    }
  }
}

# Add for cache.store.clear(), keys() or the session store's all/length/clear. A Scan names no key,
# so LeadingKeys cannot confine it: it reads the whole table.
data "aws_iam_policy_document" "scan" {
  statement {
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.cache.arn]
  }
}

# Add when partitionKeyName or ttlAttributeName is left out of the module options.
data "aws_iam_policy_document" "startup_checks" {
  statement {
    actions   = ["dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive"]
    resources = [aws_dynamodb_table.cache.arn]
  }
}

# Add, with startup_checks, for createTableIfNotExists: true.
data "aws_iam_policy_document" "table_creation" {
  statement {
    actions   = ["dynamodb:CreateTable", "dynamodb:UpdateTimeToLive"]
    resources = [aws_dynamodb_table.cache.arn]
  }
}

# Add for backplane: { type: 'streams' }, on every instance (any instance may be elected to read).
# The table's streams, not today's stream ARN, which changes when the stream is turned off and on.
data "aws_iam_policy_document" "streams" {
  statement {
    actions   = ["dynamodb:ListStreams"]
    resources = ["*"]
  }
  statement {
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"]
    resources = ["${aws_dynamodb_table.cache.arn}/stream/*"]
  }
}

locals {
  policy_documents = {
    items          = data.aws_iam_policy_document.items.json
    scan           = data.aws_iam_policy_document.scan.json
    startup_checks = data.aws_iam_policy_document.startup_checks.json
    table_creation = data.aws_iam_policy_document.table_creation.json
    streams        = data.aws_iam_policy_document.streams.json
  }
}

resource "aws_iam_policy" "cache" {
  for_each    = var.create_policies ? local.policy_documents : {}
  name_prefix = "${var.table_name}-${replace(each.key, "_", "-")}-"
  description = "nest-dynamo-cache, ${each.key}, on table ${var.table_name}"
  policy      = each.value
  tags        = var.tags
}
