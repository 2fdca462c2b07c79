import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock.tsx';

/** The bits of a hast node a code block needs (react-markdown passes its syntax tree). */
interface HastNode {
  type: string;
  tagName?: string;
  value?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
}

function textOf(node: HastNode): string {
  if (node.type === 'text') return node.value ?? '';
  return (node.children ?? []).map(textOf).join('');
}

function fenceOf(node: HastNode | undefined): string | undefined {
  const classes = node?.properties?.className;
  const list = Array.isArray(classes) ? classes.map(String) : [];
  return list.find((name) => name.startsWith('language-'))?.slice('language-'.length);
}

const components: Components = {
  // Model output may link anywhere: a new tab, no referrer, no window.opener.
  a: ({ node: _node, children, ...props }) => (
    <a {...props} target="_blank" rel="noreferrer noopener" className="text-accent underline">
      {children}
    </a>
  ),
  pre: ({ node }) => {
    const code = (node as HastNode | undefined)?.children?.find(
      (child) => child.type === 'element' && child.tagName === 'code',
    );
    const text = code ? textOf(code) : node ? textOf(node as HastNode) : '';
    return <CodeBlock code={text.replace(/\n$/, '')} fence={fenceOf(code)} />;
  },
  code: ({ node: _node, children, ...props }) => (
    <code {...props} className="rounded bg-subtle px-1 py-px font-mono text-[12px]">
      {children}
    </code>
  ),
  table: ({ node: _node, children }) => (
    <div className="my-2 overflow-x-auto">
      <table className="text-[12px] [&_td]:border [&_td]:border-line [&_td]:px-2 [&_td]:py-1 [&_th]:border [&_th]:border-line [&_th]:px-2 [&_th]:py-1">
        {children}
      </table>
    </div>
  ),
};

/**
 * A reply's markdown (GFM). Raw HTML in model output is shown as text, never rendered
 * (react-markdown's default, kept on purpose: no rehype-raw).
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="space-y-2 text-[13px] leading-relaxed text-fg [&_blockquote]:border-l-2 [&_blockquote]:border-line [&_blockquote]:pl-3 [&_blockquote]:text-muted [&_h1]:text-base [&_h1]:font-semibold [&_h2]:text-sm [&_h2]:font-semibold [&_h3]:font-semibold [&_ol]:list-decimal [&_ol]:pl-5 [&_ul]:list-disc [&_ul]:pl-5">
      <ReactMarkdown remarkPlugins={[remarkGfm]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
