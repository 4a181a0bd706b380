import { Controller, Get, Req, Res } from '@nestjs/common';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The app's metrics, in Prometheus' text format on the app's own port: the exporter is a reader of
 * the MeterProvider the cache module reports to (`openTelemetry: { meterProvider }`), with its own
 * server off. An app with the OpenTelemetry Node SDK would pass nothing and use the global one.
 */
export const prometheus = new PrometheusExporter({ preventServerStart: true });
export const meterProvider = new MeterProvider({ readers: [prometheus] });

@Controller('metrics')
export class MetricsController {
  @Get()
  scrape(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    prometheus.getMetricsRequestHandler(request, response);
  }
}
