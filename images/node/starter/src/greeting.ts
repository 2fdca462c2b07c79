/** The text the page shows. */
export function greeting(name: string): string {
  return `Hello, ${name}, from Node.js ${process.versions.node} and TypeScript!`;
}
