import { ConfigError, type SelectRequest, type Selector } from '@rpcx/core';
import { parseQueryStrict } from '@rpcx/core';
import { parseCoordinate } from './metadata.js';
import { randomOf } from './simple.js';

/** Earth radius in metres used by Go rpcx's geo selector. */
export const EARTH_RADIUS_M = 6378100;

/**
 * Great-circle distance in metres (haversine), computed with the same operations as Go
 * rpcx's `getDistanceFrom`, so the same inputs give the same float.
 */
export function haversineDistance(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const la1 = (lat1 * Math.PI) / 180;
  const lo1 = (lon1 * Math.PI) / 180;
  const la2 = (lat2 * Math.PI) / 180;
  const lo2 = (lon2 * Math.PI) / 180;
  const h = hsin(la2 - la1) + Math.cos(la1) * Math.cos(la2) * hsin(lo2 - lo1);
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

function hsin(theta: number): number {
  return Math.pow(Math.sin(theta / 2), 2);
}

export interface ClosestOptions {
  /** The client's latitude in degrees. */
  latitude: number;
  /** The client's longitude in degrees. */
  longitude: number;
  /** A uniform number in [0, 1) to break ties. Default `Math.random`. */
  random?: () => number;
}

/**
 * Go's `Closest` geo selector (SelectMode 5): the server nearest to the client by the
 * `latitude` / `longitude` metadata; equally near servers are chosen at random. Servers
 * without both coordinates as decimal numbers are ignored; with none left, select returns
 * undefined.
 *
 * Go computes every distance on every select; the client's position is fixed, so the nearest
 * set is computed once per update here, which gives the same choices.
 */
export function closestSelector(options: ClosestOptions): Selector {
  const { latitude, longitude } = options;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) {
    throw new ConfigError('closestSelector: latitude and longitude must be finite numbers');
  }
  const random = options.random ?? Math.random;
  let nearest: string[] = [];
  return {
    select(_request: SelectRequest): string | undefined {
      return randomOf(nearest, random);
    },
    updateServers(servers: ReadonlyMap<string, string>): void {
      let best: string[] = [];
      let min = Infinity;
      for (const [key, metadata] of servers) {
        const values = parseQueryStrict(metadata);
        if (!values) continue;
        const lat = parseCoordinate(values.get('latitude')?.[0]);
        const lon = parseCoordinate(values.get('longitude')?.[0]);
        if (lat === undefined || lon === undefined) continue;
        const d = haversineDistance(latitude, longitude, lat, lon);
        if (d < min) {
          best = [key];
          min = d;
        } else if (d === min) {
          best.push(key);
        }
      }
      nearest = best;
    },
  };
}
