import { register } from 'ol/proj/proj4';
import proj4 from 'proj4';

/**
 * Lambert-93 (EPSG:2154), IGN's projection for BD ORTHO and FLAIR, defined here rather than
 * fetched from epsg.io: the console reaches nothing outside its own server. The map is drawn
 * in it directly, so the COGs' pixels are shown without resampling between projections.
 */
export const LAMBERT_93 = 'EPSG:2154';

let registered = false;
export function registerLambert93(): void {
  if (registered) return;
  proj4.defs(LAMBERT_93, '+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs');
  register(proj4);
  registered = true;
}
