// Creates Kafka topics (idempotent) and waits for their partitions to have leaders.
//   node create-topics.mjs BROKERS NAME:PARTITIONS...
// Kafka's own TopicCommand lives in kafka-tools, which the jar cache does not hold, so this uses
// the kafkajs the ingest service already depends on.
/* global URL, process, console -- Node globals; the repo lint config declares none for .mjs */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ingestPackage = fileURLToPath(
  new URL('../../../services/ingest/package.json', import.meta.url),
);
const { Kafka, logLevel } = createRequire(ingestPackage)('kafkajs');

const [brokers, ...specs] = process.argv.slice(2);
if (!brokers || specs.length === 0) {
  console.error('usage: create-topics.mjs BROKERS NAME:PARTITIONS...');
  process.exit(1);
}
const topics = specs.map((spec) => {
  const [topic, partitions] = spec.split(':');
  return { topic, numPartitions: Number(partitions), replicationFactor: 1 };
});

const admin = new Kafka({
  clientId: 'fleetwire-cluster-setup',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
  // The broker may still be electing its controller right after its port opened.
  retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3000 },
}).admin();
try {
  await admin.connect();
  const created = await admin.createTopics({ topics, waitForLeaders: true, timeout: 30_000 });
  const existing = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
  for (const { name, partitions } of existing.topics) {
    console.error(
      `[fleetwire] topic ${name}: ${partitions.length} partitions${created ? '' : ' (existed)'}`,
    );
  }
} finally {
  await admin.disconnect();
}
