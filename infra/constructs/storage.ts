/**
 * Where conversations live: the single DynamoDB table (TABLE in shared/resources.ts) and the one
 * bucket (BUCKET_LAYOUT), both kept when the stack is deleted. Grants are by purpose and as
 * narrow as the design allows: exact index ARNs, one key prefix.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKET_LAYOUT, type ResourceNames, TABLE } from '#shared/resources';
import { acknowledge, arnReference } from '../compliance.ts';
import type { AppFunction } from './app-function.ts';

export type BucketArea = keyof typeof BUCKET_LAYOUT;

export interface ConversationStorageProps {
  readonly names: ResourceNames;
  /** Days after which archive/ objects move to Glacier Instant Retrieval. */
  readonly archiveAfterDays?: number;
  /** Days a replaced or deleted object version is kept. */
  readonly noncurrentVersionDays?: number;
  /** Days the S3 server access logs are kept. */
  readonly accessLogDays?: number;
}

const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export class ConversationStorage extends Construct {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: ConversationStorageProps) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      tableName: props.names.table,
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE.ttlAttribute,
      // AWS managed key (aws/dynamodb): encrypted with KMS and every use visible in CloudTrail,
      // without the $1/month and key policy of a CMK (idle cost ≈ $0, OP-6). Nothing outside this
      // account reads the table, so a key policy of our own would add nothing.
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(TABLE.indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      });
    }

    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      // S3 server access logging delivers with SSE-S3 only.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogDays ?? 365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'This bucket is the server access log destination of the data bucket; logging it into itself would loop and a third bucket would only move the finding.',
    );

    this.bucket = new Bucket(this, 'Data', {
      // resourceNames().bucket is not globally unique on its own: account and region make it so.
      bucketName: `${props.names.bucket}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'archive-to-glacier-instant-retrieval',
          prefix: BUCKET_LAYOUT.archive,
          transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(props.archiveAfterDays ?? 30) }],
        },
        {
          // End User Messaging Social stages inbound media here (GetWhatsAppMessageMedia); the media
          // function deletes each copy once read: what a crash left behind goes after a day.
          id: 'expire-media-staging',
          prefix: `${BUCKET_LAYOUT.media}staging/`,
          expiration: Duration.days(1),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private indexArns(): string[] {
    return Object.values(TABLE.indexes).map((index) => `${this.table.tableArn}/index/${index.name}`);
  }

  /** Get and query items, on the table and its two indexes by name (no index wildcard). */
  allowTableRead(fn: AppFunction): void {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: TABLE_READ_ACTIONS, resources: [this.table.tableArn, ...this.indexArns()] }),
    );
  }

  /** Read plus put, update and delete items (transactions use the same item actions). */
  allowTableReadWrite(fn: AppFunction): void {
    this.allowTableRead(fn);
    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: TABLE_WRITE_ACTIONS, resources: [this.table.tableArn] }));
  }

  /** What the storage-growth task measures (ST-3): the table's size and the bucket's object list. */
  allowSizeProbes(fn: AppFunction): void {
    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [this.table.tableArn] }));
    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
  }

  /** Put objects under one area's prefix (e.g. media/) and nowhere else. */
  allowObjectWrite(fn: AppFunction, area: BucketArea): void {
    this.allowObjects(fn, area, ['s3:PutObject']);
  }

  /**
   * Object actions under one area's prefix only: put, get (a presigned URL is signed with the
   * signer's own rights), delete (a download whose hash did not match).
   */
  allowObjects(fn: AppFunction, area: BucketArea, actions: readonly ('s3:PutObject' | 's3:GetObject' | 's3:DeleteObject')[]): void {
    const prefix = BUCKET_LAYOUT[area];
    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions], resources: [this.bucket.arnForObjects(`${prefix}*`)] }));
    acknowledge(
      fn,
      `AwsSolutions-IAM5[Resource::${arnReference(this.bucket)}/${prefix}*]`,
      `Object keys under ${prefix} are created at run time (one per media file, raw payload, export or report); the grant is limited to that prefix and to ${actions.join(', ')}.`,
    );
  }
}
