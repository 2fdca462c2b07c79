import '@testing-library/jest-dom';
import { fireEvent, render } from '@lynx-js/react/testing-library';
import { expect, test } from 'vitest';
import { App } from '../App.jsx';

test('greets, and counts each tap', () => {
  const { getByTestId, getByText } = render(<App />);
  expect(getByText('Hello, world, from Lynx!')).toBeInTheDocument();
  const button = getByTestId('tap') as HTMLElement;
  fireEvent.tap(button);
  fireEvent.tap(button);
  expect(getByText('Tapped 2 times')).toBeInTheDocument();
});
