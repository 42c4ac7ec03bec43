import { describe, expect, it } from 'vitest';

import { parseClientMessage } from './parse.js';

/** A frame from device `sensor-001`, as the WebSocket transport parses it. */
const fromDevice = (frame: string) =>
  parseClientMessage(JSON.parse(frame), { bareTelemetry: true, deviceId: 'sensor-001' });

const AT = Date.UTC(2025, 4, 29, 12, 45, 0);

describe('seed-style device messages (frames as the tutorials write them)', () => {
  it('a bare telemetry object keeps every field as data, its timestamp becomes the time', () => {
    const frame =
      '{"device_id":"sensor-001","type":"temperature_update","value":23.5,"timestamp":"2025-05-29T12:45:00Z"}';
    expect(fromDevice(frame)).toEqual({
      type: 'telemetry',
      ts: AT,
      data: {
        device_id: 'sensor-001',
        type: 'temperature_update',
        value: 23.5,
        timestamp: '2025-05-29T12:45:00Z',
      },
    });
  });

  it('timestamps in epoch seconds and milliseconds', () => {
    expect(
      fromDevice(
        '{"device_id":"sensor-001","type":"humidity_update","value":41,"timestamp":1748522700}',
      ),
    ).toMatchObject({ type: 'telemetry', ts: AT });
    expect(
      fromDevice('{"type":"humidity_update","value":41,"timestamp":1748522700000}'),
    ).toMatchObject({ type: 'telemetry', ts: AT });
  });

  it('a status with plain fields takes them as its data', () => {
    expect(
      fromDevice('{"device_id":"sensor-001","type":"status","status":"online","battery":87}'),
    ).toEqual({
      type: 'status',
      data: { device_id: 'sensor-001', status: 'online', battery: 87 },
    });
    expect(fromDevice('{"type":"status","id":"st-1","status":"online"}')).toEqual({
      type: 'status',
      id: 'st-1',
      data: { status: 'online' },
    });
    // A `data` object is the data, as in the protocol's own status.
    expect(fromDevice('{"type":"status","data":{"battery":80},"firmware":"1.4.2"}')).toEqual({
      type: 'status',
      data: { battery: 80 },
    });
  });

  it('an update is telemetry: its plain fields, or its data object, with its timestamp', () => {
    expect(
      fromDevice(
        '{"device_id":"sensor-001","type":"update","temperature":23.5,"humidity":40,"timestamp":"2025-05-29T12:45:00Z"}',
      ),
    ).toEqual({
      type: 'telemetry',
      ts: AT,
      data: {
        device_id: 'sensor-001',
        temperature: 23.5,
        humidity: 40,
        timestamp: '2025-05-29T12:45:00Z',
      },
    });
    expect(
      fromDevice('{"type":"update","id":"u-1","data":{"temperature":23.5},"timestamp":1748522700}'),
    ).toEqual({ type: 'telemetry', id: 'u-1', ts: AT, data: { temperature: 23.5 } });
    expect(() => fromDevice('{"type":"update","data":[1,2]}')).toThrow(
      expect.objectContaining({
        code: 'bad_message',
        message: expect.stringMatching(/^invalid update message: data:/),
      }),
    );
  });

  it('telemetry takes the timestamp unless it has its own ts', () => {
    expect(
      fromDevice('{"type":"telemetry","data":{"t":1},"timestamp":"2025-05-29T12:45:00Z"}'),
    ).toMatchObject({ ts: AT });
    expect(
      fromDevice('{"type":"telemetry","ts":5,"data":{"t":1},"timestamp":"2025-05-29T12:45:00Z"}'),
    ).toMatchObject({ ts: 5 });
  });

  it('ack and nack may leave out the id, or name the command by ref', () => {
    expect(fromDevice('{"type":"ack"}')).toEqual({ type: 'ack' });
    expect(fromDevice('{"device_id":"sensor-001","type":"ack","result":"done"}')).toEqual({
      type: 'ack',
      result: 'done',
    });
    expect(fromDevice('{"type":"nack","message":"busy"}')).toEqual({
      type: 'nack',
      reason: 'rejected',
      message: 'busy',
    });
    expect(fromDevice('{"type":"ack","ref":"c-17"}')).toMatchObject({ type: 'ack', id: 'c-17' });
    expect(fromDevice('{"type":"ack","id":"c-1","ref":"c-17"}')).toMatchObject({ id: 'c-1' });
  });

  it.each([
    ['{"device_id":"sensor-002","type":"temperature_update","value":23.5}', /"sensor-002"/],
    ['{"device_id":"sensor-002","type":"status","status":"online"}', /"sensor-002"/],
    ['{"device_id":"sensor-002","type":"ack"}', /"sensor-002"/],
    ['{"device_id":1,"type":"update","value":1}', /not a number/],
    ['{"device_id":null,"type":"update","value":1}', /not null/],
  ])('device_id of another device is device_mismatch: %s', (frame, named) => {
    expect(() => fromDevice(frame)).toThrow(
      expect.objectContaining({
        code: 'device_mismatch',
        message: expect.stringMatching(named),
      }),
    );
  });

  it('names the message in a device_mismatch by its id', () => {
    expect(() => fromDevice('{"id":"m-9","device_id":"other","value":1}')).toThrow(
      expect.objectContaining({ code: 'device_mismatch', ref: 'm-9' }),
    );
  });

  it('an unreadable timestamp is bad_message, whatever the type', () => {
    for (const type of ['temperature_update', 'status', 'update', 'ack']) {
      expect(() => fromDevice(`{"type":"${type}","timestamp":"yesterday","id":"x"}`)).toThrow(
        expect.objectContaining({ code: 'bad_message', ref: 'x' }),
      );
    }
  });

  it('none of this applies without a device id (dashboards, services, MQTT payloads)', () => {
    expect(() =>
      parseClientMessage({ type: 'status', battery: 80 }, { bareTelemetry: false }),
    ).toThrow(expect.objectContaining({ code: 'bad_message' }));
    expect(
      parseClientMessage(
        { device_id: 'x', type: 'temperature_update', timestamp: 'yesterday' },
        { bareTelemetry: true },
      ),
    ).toEqual({
      type: 'telemetry',
      data: { device_id: 'x', type: 'temperature_update', timestamp: 'yesterday' },
    });
  });
});
