import type { FileContent } from '@studio/protocol';
import { InfoIcon } from '../../../components/icons.tsx';

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
};

function imageType(path: string): string | undefined {
  return IMAGE_TYPES[path.slice(path.lastIndexOf('.') + 1).toLowerCase()];
}

/** Instead of the editor: a message for what it cannot show. */
export function FileGuard({ title, children }: { title: string; children: string }) {
  return (
    <div className="flex h-full flex-col items-center justify-center gap-2 px-6 text-center">
      <InfoIcon className="size-6 text-muted" />
      <p className="text-sm font-medium text-fg">{title}</p>
      <p className="max-w-sm text-[13px] text-muted">{children}</p>
    </div>
  );
}

/** A binary file: images are shown, anything else gets a note. SVG is text and opens in the editor. */
export function BinaryPreview({ path, file }: { path: string; file: FileContent }) {
  const type = imageType(path);
  if (!type) {
    return (
      <FileGuard title="This is a binary file">
        The editor shows text only. Download it from the file tree to open it on your computer.
      </FileGuard>
    );
  }
  return (
    <div className="flex h-full items-center justify-center overflow-auto bg-subtle p-6">
      <img
        src={`data:${type};base64,${file.content}`}
        alt={path}
        className="max-h-full max-w-full shadow-sm"
      />
    </div>
  );
}
