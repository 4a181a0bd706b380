// Files that the guides link to and that other branches add (the options reference, the table as code, the
// Grafana dashboard, the diagrams). Until they are merged, the link test passes over links to them and the
// site shows a missing diagram as its alt text. Once a file exists, the link test asks for its line here to go:
// after the merges this list is empty.
export const NOT_YET_MERGED: readonly string[] = [];
