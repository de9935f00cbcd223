import { xmlEscape } from './xml-escape';

// GDAL escapes item values before building the XML tree, which escapes them again, and
// unescapes twice when reading: a value escaped once loses everything after a bare '&'.
const itemValue = (value: string) => xmlEscape(xmlEscape(value));

/**
 * The GDAL_METADATA (tag 42112) XML GDAL reads back as dataset metadata items and band
 * descriptions, or undefined when there is nothing to write.
 */
export function gdalMetadataXml(
  metadata: Readonly<Record<string, string>>,
  bandDescriptions: readonly string[],
): string | undefined {
  const items = Object.entries(metadata).map(
    ([name, value]) => `  <Item name="${xmlEscape(name)}">${itemValue(value)}</Item>`,
  );
  bandDescriptions.forEach((description, sample) => {
    if (description === '') return;
    items.push(`  <Item name="DESCRIPTION" sample="${sample}" role="description">${itemValue(description)}</Item>`);
  });
  if (items.length === 0) return undefined;
  return `<GDALMetadata>\n${items.join('\n')}\n</GDALMetadata>`;
}
